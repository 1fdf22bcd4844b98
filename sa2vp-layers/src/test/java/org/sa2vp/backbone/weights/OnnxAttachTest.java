package org.sa2vp.backbone.weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.Backbones;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.vit.VitFixtures;
import org.sa2vp.method.TuningMethods;
import org.sa2vp.model.AttachAssertions;
import org.sa2vp.model.Sa2vp;
import org.sa2vp.model.Sa2vpModel;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.sa2vp.backbone.weights.OnnxBuilder.floatTensor;
import static org.sa2vp.backbone.weights.OnnxBuilder.graph;
import static org.sa2vp.backbone.weights.OnnxBuilder.model;
import static org.sa2vp.backbone.weights.OnnxBuilder.names;
import static org.sa2vp.backbone.weights.OnnxBuilder.node;
import static org.sa2vp.model.AttachAssertions.CLASSES;
import static org.sa2vp.model.AttachAssertions.floats;

/**
 * Attaching SA2VP and every baseline to a ViT exported to ONNX (torchvision, timm, Hugging Face fixtures), read as
 * an {@link OnnxModel}: DL4J cannot import these into a graph, so the ViT is recognised on the ONNX graph and its
 * weights attached; the result equals the ONNX file's checkpoint route. A model that is no ViT is refused in one line
 * naming the node.
 */
class OnnxAttachTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"torchvision_opset13.onnx", "timm_opset14.onnx", "hf_opset17.onnx"})
    void everyMethodAttachesAsTheOnnxCheckpointLoads(String file) {
        BackboneCheckpoint loaded = Backbones.read(VitFixtures.file(file), CheckpointOptions.defaults());
        OnnxModel onnx = OnnxModel.read(VitFixtures.file(file));
        BackboneCheckpoint read = Backbones.fromOnnx(onnx, CheckpointOptions.defaults());
        assertEquals("width 32, depth 2, 2 heads, patch 8, 32x32 images, 3 channels, MLP 64",
                read.config().describe());
        for (String key : loaded.weights().keys()) {
            assertArrayEquals(floats(loaded.weights().get(key)), floats(read.weights().get(key)), key);
        }
        AttachAssertions.assertEveryMethodAttachesAsLoaded(loaded, VitFixtures.input(), (name, classes) ->
                TuningMethods.attach(TuningMethods.create(name, read.config(), classes), read,
                        Sa2vpModel.defaultGlobals()));
        AttachAssertions.assertSa2vpAttachesAsLoaded(loaded, Sa2vp.attach(onnx, CLASSES), VitFixtures.input());
    }

    /** An export with a Softmax on its logits (made by make_softmax_head_fixture.py from the same weights). */
    @org.junit.jupiter.api.Test
    void aSoftmaxOnTheOutputIsNotTakenForAttention() {
        BackboneCheckpoint loaded = Backbones.read(VitFixtures.file("torchvision_opset13.onnx"),
                CheckpointOptions.defaults());
        OnnxModel withSoftmax = OnnxModel.read(VitFixtures.file("torchvision_softmax_opset13.onnx"));
        assertEquals(3, withSoftmax.graph().nodes().stream().filter(n -> n.opType().equals("Softmax")).count());
        AttachAssertions.assertSa2vpAttachesAsLoaded(loaded, Sa2vp.attach(withSoftmax, CLASSES), VitFixtures.input());
    }

    private static final String CNN_REFUSAL = "cnn.onnx: node '/conv1/Conv' (Conv) reading the image has kernel "
            + "[3, 3], strides [1, 1], pads [1, 1, 1, 1]; expected the patch embedding: a stored square kernel equal "
            + "to the strides, no padding";

    /** A one-convolution CNN: Conv 3x3 (stride 1, padding 1) → GlobalAveragePool. */
    private static byte[] cnn() {
        OnnxBuilder[] nodes = {
                node("/conv1/Conv", "Conv", names("input", "conv1.weight", "conv1.bias"), names("features"),
                        new OnnxBuilder().string(1, "kernel_shape").packedVarints(8, 3, 3).varint(20, 7),
                        new OnnxBuilder().string(1, "strides").packedVarints(8, 1, 1).varint(20, 7),
                        new OnnxBuilder().string(1, "pads").packedVarints(8, 1, 1, 1, 1).varint(20, 7)),
                node("/pool/GlobalAveragePool", "GlobalAveragePool", names("features"), names("output"))};
        return model(13, graph(nodes, floatTensor("conv1.weight", new long[]{8, 3, 3, 3}, new float[8 * 3 * 3 * 3]),
                floatTensor("conv1.bias", new long[]{8}, new float[8])));
    }

    @Test
    void aCnnIsRefusedInOneLineNamingTheNode() {
        OnnxModel model = OnnxModel.parse(ByteBuffer.wrap(cnn()), "cnn.onnx");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sa2vp.attach(model, CLASSES));
        assertEquals("ONNX model: no registered backbone family recognises it (vit: " + CNN_REFUSAL
                        + "; swin: " + CNN_REFUSAL + ")",
                e.getMessage());
    }

    @Test
    void theFileRouteRefusesTheCnnWithTheSameLine(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("cnn.onnx");
        Files.write(file, cnn());
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> Backbones.read(file, CheckpointOptions.defaults()));
        assertEquals(CNN_REFUSAL, e.getMessage());
    }
}
