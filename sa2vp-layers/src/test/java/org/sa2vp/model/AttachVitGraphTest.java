package org.sa2vp.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.Backbones;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.vit.PatchEmbedding;
import org.sa2vp.backbone.vit.TransformerBlock;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.backbone.vit.VitFixtures;
import org.sa2vp.baseline.HeadTuningConfig;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.method.TuningMethods;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sa2vp.model.AttachAssertions.CLASSES;
import static org.sa2vp.model.AttachAssertions.floats;

/**
 * Attaching SA2VP and every baseline to a ViT that the user built with this library's {@code VisionTransformer}
 * (here: the timm fixture's weights in a ViT classifier graph): the same graph as the checkpoint route, training
 * moves only what the method trains, and graphs that are no ViT are refused in one line.
 */
class AttachVitGraphTest {

    private static VitCheckpoint loaded;
    private static ComputationGraph vit;

    @BeforeAll
    static void userGraph() {
        loaded = VitCheckpoint.of(Backbones.read(VitFixtures.file("timm.safetensors"),
                CheckpointOptions.defaults().withNumHeads(VitFixtures.HEADS)));
        vit = loaded.toGraph();
    }

    @Test
    void recognisesTheArchitectureAndReadsTheWeightsBitForBit() {
        BackboneCheckpoint read = Backbones.fromGraph(vit, CheckpointOptions.defaults());
        VisionTransformerConfig config = VitCheckpoint.of(read).config();
        assertEquals("width 32, depth 2, 2 heads, patch 8, 32x32 images, 3 channels, MLP 64", config.describe());
        assertTrue(config.isClassToken() && config.isQkvBias());
        assertEquals(1e-6, config.getLayerNormEps());
        List<String> backboneKeys = loaded.weights().keys().stream().filter(k -> !k.startsWith("head.")).toList();
        assertEquals(backboneKeys.stream().sorted().toList(), read.weights().keys().stream().sorted().toList());
        for (String key : backboneKeys) {
            assertArrayEquals(floats(loaded.weights().get(key)), floats(read.weights().get(key)), key);
        }
    }

    @Test
    void everyMethodAttachesAsTheCheckpointLoads() {
        AttachAssertions.assertEveryMethodAttachesAsLoaded(loaded, VitFixtures.input(), (name, classes) ->
                TuningMethods.attach(name, classes, vit, Sa2vpModel.defaultGlobals()));
        AttachAssertions.assertSa2vpAttachesAsLoaded(loaded, Sa2vp.attach(vit, CLASSES), VitFixtures.input());
    }

    @Test
    void oneFitMovesOnlyTrainableValues() {
        BackboneCheckpoint read = Backbones.fromGraph(vit, CheckpointOptions.defaults());
        for (String name : List.of("sa2vp", HeadTuningConfig.LINEAR_PROBE)) {
            TuningMethod method = TuningMethods.create(name, read.config(), CLASSES);
            ComputationGraph attached = TuningMethods.attach(method, read, Sa2vpModel.defaultGlobals());
            Map<String, INDArray> frozen = backboneMask(method, read);
            Map<String, INDArray> before = new HashMap<>();
            attached.paramTable().forEach((k, v) -> before.put(k, v.dup()));

            INDArray oneHot = Nd4j.zeros(DataType.FLOAT, 2, CLASSES);
            oneHot.putScalar(0, 1, 1);
            oneHot.putScalar(1, 3, 1);
            attached.fit(new MultiDataSet(new INDArray[]{VitFixtures.input()}, method.labels(oneHot)));

            long frozenValues = 0, changedFrozen = 0, changedTrainable = 0;
            for (Map.Entry<String, INDArray> e : attached.paramTable().entrySet()) {
                float[] was = floats(before.get(e.getKey())), is = floats(e.getValue());
                float[] mask = floats(frozen.get(e.getKey()));
                for (int i = 0; i < is.length; i++) {
                    boolean changed = Float.floatToIntBits(was[i]) != Float.floatToIntBits(is[i]);
                    if (!Float.isNaN(mask[i])) {
                        frozenValues++;
                        changedFrozen += changed ? 1 : 0;
                    } else {
                        changedTrainable += changed ? 1 : 0;
                    }
                }
            }
            System.out.printf("%s: %d backbone values unchanged of %d, %d trainable values changed (method trains "
                    + "%d)%n", name, frozenValues - changedFrozen, frozenValues, changedTrainable,
                    method.trainableParameters());
            assertEquals(read.config().parameterCount(), frozenValues, name + ": backbone values in the graph");
            assertEquals(0, changedFrozen, name + ": backbone values changed by fit");
            assertTrue(changedTrainable > 0 && changedTrainable <= method.trainableParameters(),
                    name + ": " + changedTrainable + " trainable values changed");
        }
    }

    /** The graph's parameters with NaN where the method's graph holds no backbone value (loaded over NaN). */
    private static Map<String, INDArray> backboneMask(TuningMethod method, BackboneCheckpoint checkpoint) {
        ComputationGraph probe = TuningMethods.attach(method, checkpoint, Sa2vpModel.defaultGlobals());
        probe.paramTable().values().forEach(p -> p.assign(Float.NaN));
        method.loadBackbone(probe, checkpoint);
        return probe.paramTable();
    }

    @Test
    void aMethodConfiguredForAnotherArchitectureIsRefusedInOneLine() {
        BackboneCheckpoint read = Backbones.fromGraph(vit, CheckpointOptions.defaults());
        VisionTransformerConfig other = VisionTransformerConfig.named("vit_tiny_patch8_224");
        IllegalArgumentException generic = assertThrows(IllegalArgumentException.class, () -> TuningMethods.attach(
                HeadTuningConfig.linearProbe(other, CLASSES), read, Sa2vpModel.defaultGlobals()));
        assertEquals("DL4J graph: backbone width 32, depth 2, 2 heads, patch 8, 32x32 images, 3 channels, MLP 64 is "
                + "not the one method linear-probe is configured on, " + other.describe() + "; build the method on "
                + "the checkpoint's config()", generic.getMessage());
        IllegalArgumentException sa2vp = assertThrows(IllegalArgumentException.class, () -> Sa2vp.attach(vit,
                Sa2vpConfig.of(other, CLASSES), Sa2vpModel.defaultGlobals()));
        assertEquals("DL4J graph: backbone width 32, depth 2, 2 heads, patch 8, 32x32 images, 3 channels, MLP 64 is "
                + "not the one the SA2VP configuration is set for, " + other.describe(), sa2vp.getMessage());
    }

    @Test
    void sa2vpSettingsAreKeptAndTheBackboneIsTheGraphs() {
        Sa2vpConfig settings = Sa2vpConfig.builder().numClasses(CLASSES).promptRank(4).adapterSize(8)
                .imageToPromptLayers(List.of(0)).deepPromptLayers(List.of(1)).build();
        ComputationGraph attached = Sa2vp.attach(vit, settings, Sa2vpModel.defaultGlobals());
        Sa2vpConfig expected = settings.withBackbone(VitCheckpoint.of(Backbones.fromGraph(vit,
                CheckpointOptions.defaults())).config());
        ComputationGraph reference = Sa2vpModel.create(expected);
        expected.loadBackbone(reference, loaded);
        reference.paramTable().forEach((name, value) -> assertArrayEquals(floats(value),
                floats(attached.paramTable().get(name)), name));
        assertEquals(expected.trainableParameters(), settings.withBackbone(loaded.config()).trainableParameters());
    }

    @Test
    void aCnnIsRefusedInOneLineNamingTheVertex() {
        ComputationGraphConfiguration cnn = new NeuralNetConfiguration.Builder().graphBuilder().addInputs("pixels")
                .setInputTypes(InputType.convolutional(32, 32, 3))
                .addLayer("conv1", new ConvolutionLayer.Builder(3, 3).nOut(8).activation(Activation.RELU).build(),
                        "pixels")
                .addLayer("pool", new GlobalPoolingLayer(), "conv1")
                .addLayer("out", new OutputLayer.Builder().nOut(CLASSES).activation(Activation.SOFTMAX).build(), "pool")
                .setOutputs("out").build();
        ComputationGraph graph = new ComputationGraph(cnn);
        graph.init();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sa2vp.attach(graph, CLASSES));
        assertEquals("DL4J graph: no registered backbone family recognises it (vit: vertex 'conv1' (ConvolutionLayer) "
                + "has kernel [3, 3], stride [1, 1], padding [0, 0], activation relu, format NCHW; a ViT patch embedding "
                + "as Keras imports it has a square kernel equal to its stride, no padding, a bias, no activation and "
                + "format NHWC; swin: vertex 'conv1' is a ConvolutionLayer where the patch embedding "
                + "(SwinPatchEmbedding) was expected)", e.getMessage());
    }

    @Test
    void aVitWithoutItsFinalNormIsRefusedInOneLineNamingTheVertex() {
        ComputationGraphConfiguration truncated = new NeuralNetConfiguration.Builder().graphBuilder()
                .addInputs("image").setInputTypes(InputType.convolutional(32, 32, 3))
                .addLayer("patch_embed", new PatchEmbedding.Builder().imageSize(32, 32).patchSize(8).hiddenSize(32)
                        .build(), "image")
                .addLayer("blocks.0", new TransformerBlock.Builder().hiddenSize(32).numHeads(2).mlpSize(64).build(),
                        "patch_embed")
                .addLayer("blocks.1", new TransformerBlock.Builder().hiddenSize(32).numHeads(2).mlpSize(64).build(),
                        "blocks.0")
                .setOutputs("blocks.1").build();
        ComputationGraph graph = new ComputationGraph(truncated);
        graph.init();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TuningMethods.attach("vpt-deep", CLASSES, graph, Sa2vpModel.defaultGlobals()));
        assertEquals("DL4J graph: no registered backbone family recognises it (vit: vertex 'blocks.1' is an output of "
                + "the graph, where a transformer block or the final norm was expected to follow it; swin: vertex "
                + "'patch_embed' is a PatchEmbedding where the patch embedding (SwinPatchEmbedding) was expected)",
                e.getMessage());
    }
}
