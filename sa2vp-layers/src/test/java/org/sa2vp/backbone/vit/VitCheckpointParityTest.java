package org.sa2vp.backbone.vit;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.TestArrays;
import org.sa2vp.backbone.weights.NpzReader;
import org.sa2vp.backbone.weights.StateDict;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each checkpoint format loads into our ViT graph and reproduces torchvision's features and logits
 * (max |Δ| ≤ 1e-4, measured ≈1e-6).
 */
class VitCheckpointParityTest {

    private static final double TOLERANCE = 1e-4;

    @ParameterizedTest(name = "{0}")
    @CsvSource({"google.npz", "compressed.npz", "timm.npz", "timm.safetensors", "hf.safetensors",
            "torchvision.npz", "torchvision_opset13.onnx", "torchvision_opset17.onnx", "timm_opset14.onnx",
            "hf_opset17.onnx"})
    void checkpointReproducesTorchvision(String file) {
        VitCheckpoint checkpoint = VitCheckpoint.read(VitFixtures.file(file),
                VitCheckpoint.Options.defaults().withNumHeads(VitFixtures.HEADS));
        VisionTransformerConfig c = checkpoint.config();
        assertEquals(32, c.getHiddenSize());
        assertEquals(2, c.getDepth());
        assertEquals(8, c.getPatchSize());
        assertEquals(32, c.getImageHeight());
        assertEquals(64, c.effectiveMlpSize());
        assertEquals(10, c.getNumClasses());
        ComputationGraph graph = checkpoint.toGraph();
        StateDict reference = VitFixtures.reference();
        INDArray x = VitFixtures.input();
        double features = TestArrays.maxAbsDiff(VisionTransformer.features(graph, x), reference.get("features"));
        double logits = TestArrays.maxAbsDiff(VisionTransformer.logits(graph, x), reference.get("logits"));
        System.out.printf("%s: max|Δ| features %.2e, logits %.2e%n", file, features, logits);
        assertTrue(features <= TOLERANCE, file + " features max|Δ| " + features);
        assertTrue(logits <= TOLERANCE, file + " logits max|Δ| " + logits);
    }

    /**
     * torch.save's forms of timm.safetensors's weights ({@code tools/reference/vit/make_pth_fixtures.py}): a state
     * dict in the zip form, {'model': state dict, 'epoch': 3}, the legacy form, and a state dict whose tensors are
     * views (a shared storage at an offset, a transpose, every second column) give the same architecture and,
     * weights being equal, the same logits to the bit.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"pth/timm.pth", "pth/timm_model_epoch.pth", "pth/timm_legacy.pth", "pth/timm_views.pth"})
    void torchSaveFilesReadAsTheSafetensors(String file) {
        VitCheckpoint.Options options = VitCheckpoint.Options.defaults().withNumHeads(VitFixtures.HEADS);
        VitCheckpoint safetensors = VitCheckpoint.read(VitFixtures.file("timm.safetensors"), options);
        VitCheckpoint pth = VitCheckpoint.read(VitFixtures.file(file), options);
        assertEquals(safetensors.config().withName(""), pth.config().withName(""));
        assertEquals(safetensors.weights().keys(), pth.weights().keys());
        for (String key : safetensors.weights().keys()) {
            assertArrayEquals(safetensors.weights().get(key).shape(), pth.weights().get(key).shape(), key);
            assertArrayEquals(safetensors.weights().get(key).data().asFloat(), pth.weights().get(key).dup('c')
                    .data().asFloat(), file + " " + key);
        }
        INDArray x = VitFixtures.input();
        assertArrayEquals(VisionTransformer.logits(safetensors.toGraph(), x).data().asFloat(),
                VisionTransformer.logits(pth.toGraph(), x).data().asFloat(), file);
    }

    /**
     * The float16 copy holds the weights rounded to float16: exactly what ND4J's own float16 cast makes of the
     * float32 weights, so the logits equal those of that rounded copy to the bit, and torch's logits on the rounded
     * weights (reference_float16.npz) within 1e-6 (measured 4.8e-7).
     */
    @Test
    void float16TorchSaveFileHoldsTheRoundedWeights() {
        VitCheckpoint.Options options = VitCheckpoint.Options.defaults().withNumHeads(VitFixtures.HEADS);
        VitCheckpoint half = VitCheckpoint.read(VitFixtures.file("pth/timm_float16.pth"), options);
        Map<String, INDArray> rounded = new LinkedHashMap<>();
        VitFixtures.safetensors("timm.safetensors").forEach((key, value) -> rounded.put(key,
                value.castTo(DataType.HALF).castTo(DataType.FLOAT)));
        VitCheckpoint reference = VitCheckpoint.of(new StateDict("rounded", rounded), OptionalInt.empty(), options);
        for (String key : reference.weights().keys()) {
            assertArrayEquals(reference.weights().get(key).dup('c').data().asFloat(), half.weights().get(key)
                    .dup('c').data().asFloat(), key);
        }
        INDArray x = VitFixtures.input();
        INDArray logits = VisionTransformer.logits(half.toGraph(), x);
        assertArrayEquals(VisionTransformer.logits(reference.toGraph(), x).data().asFloat(), logits.data().asFloat());
        StateDict torch = NpzReader.readNpz(VitFixtures.file("pth/reference_float16.npz"));
        double difference = TestArrays.maxAbsDiff(logits, torch.get("logits"));
        System.out.printf("timm_float16.pth: max|Δ| logits against torch %.2e%n", difference);
        assertTrue(difference <= 1e-6, "logits max|Δ| " + difference);
    }

    /**
     * A Keras .h5 made by tfjs (fixtures/keras, {@code tools/reference/keras}) loads into our ViT graph, heads from
     * its MultiHeadAttention config, and reproduces tfjs on the NHWC input (transposed to NCHW).
     */
    @Test
    void kerasH5LoadsIntoTheViTGraph() throws Exception {
        java.nio.file.Path h5 = java.nio.file.Path.of(getClass().getResource("/fixtures/keras/vit_tiny.h5").toURI());
        VitCheckpoint checkpoint = VitCheckpoint.read(h5, VitCheckpoint.Options.defaults());
        assertEquals(2, checkpoint.config().getNumHeads());
        StateDict reference = org.sa2vp.backbone.weights.NpzReader.readNpz(java.nio.file.Path.of(
                getClass().getResource("/fixtures/keras/vit_tiny_reference.npz").toURI()));
        INDArray nchw = reference.get("input").permute(0, 3, 1, 2).dup('c');
        ComputationGraph graph = checkpoint.toGraph();
        double features = TestArrays.maxAbsDiff(VisionTransformer.features(graph, nchw),
                reference.get("class_token_features"));
        double logits = TestArrays.maxAbsDiff(VisionTransformer.logits(graph, nchw), reference.get("logits"));
        System.out.printf("vit_tiny.h5: max|Δ| features %.2e, logits %.2e%n", features, logits);
        assertTrue(features <= TOLERANCE && logits <= TOLERANCE, "features " + features + ", logits " + logits);
    }

    @Test
    void huggingFaceViTModelWithoutHeadGivesFeatures() {
        VitCheckpoint checkpoint = VitCheckpoint.read(VitFixtures.file("hf_vitmodel.safetensors"),
                VitCheckpoint.Options.defaults().withNumHeads(VitFixtures.HEADS));
        assertEquals(0, checkpoint.config().getNumClasses());
        ComputationGraph graph = checkpoint.toGraph();
        assertNull(graph.getVertex(VisionTransformer.HEAD));
        double features = TestArrays.maxAbsDiff(VisionTransformer.features(graph, VitFixtures.input()),
                VitFixtures.reference().get("features"));
        assertTrue(features <= TOLERANCE, "features max|Δ| " + features);
    }

    /**
     * A linear probe for a new task: a graph with another number of classes takes the backbone and the final norm
     * (same features as torchvision) and keeps its freshly initialised head instead of failing on the head's shape.
     */
    @Test
    void graphForAnotherTaskKeepsItsNewHead() {
        VitCheckpoint checkpoint = VitCheckpoint.read(VitFixtures.file("timm.safetensors"),
                VitCheckpoint.Options.defaults().withNumHeads(VitFixtures.HEADS));
        VisionTransformerConfig probe = checkpoint.config().withNumClasses(4);
        ComputationGraph graph = VisionTransformer.create(probe);
        INDArray freshHead = graph.getParam(VisionTransformer.HEAD + "_W").dup();
        checkpoint.assignTo(graph, probe);
        assertEquals(freshHead, graph.getParam(VisionTransformer.HEAD + "_W"));
        double features = TestArrays.maxAbsDiff(VisionTransformer.features(graph, VitFixtures.input()),
                VitFixtures.reference().get("features"));
        assertTrue(features <= TOLERANCE, "features max|Δ| " + features);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"ALIGN_CORNERS, pos_embed_align_corners, logits_align_corners",
            "HALF_PIXEL, pos_embed_half_pixel, logits_half_pixel"})
    void positionEmbeddingIsResizedForAnotherImageSize(PositionEmbeddingResize.Alignment alignment,
                                                       String positionKey, String logitsKey) {
        VitCheckpoint checkpoint = VitCheckpoint.read(VitFixtures.file("google.npz"),
                VitCheckpoint.Options.defaults().withImageSize(48).withAlignment(alignment));
        assertEquals(48, checkpoint.config().getImageHeight());
        ComputationGraph graph = checkpoint.toGraph();
        StateDict resized = org.sa2vp.backbone.weights.NpzReader.readNpz(VitFixtures.file("resized48.npz"));
        INDArray expectedPositions = resized.get(positionKey);
        double positions = TestArrays.maxAbsDiff(VisionTransformer.positionEmbedding(graph),
                expectedPositions.reshape(expectedPositions.size(1), expectedPositions.size(2)));
        double logits = TestArrays.maxAbsDiff(VisionTransformer.logits(graph, resized.get("input48")),
                resized.get(logitsKey));
        System.out.printf("resize %s: max|Δ| position embedding %.2e, logits %.2e%n", alignment, positions, logits);
        assertTrue(positions <= 1e-6, "position embedding max|Δ| " + positions);
        assertTrue(logits <= TOLERANCE, "logits max|Δ| " + logits);
    }
}
