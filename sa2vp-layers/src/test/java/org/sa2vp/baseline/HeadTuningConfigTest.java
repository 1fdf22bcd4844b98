package org.sa2vp.baseline;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.backbone.vit.VisionTransformer;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.backbone.weights.SafetensorsReader;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.method.TuningMethods;
import org.sa2vp.model.Sa2vpConfig;
import org.sa2vp.train.Trainer;
import org.sa2vp.train.TrainingRecipe;
import org.sa2vp.train.TrainingState;

import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The linear probe and full fine-tuning, and the method registry ({@link TuningMethods}) shared by the command line: what trains, what
 * is saved, how many values, and that every method's configuration survives the trainer's state file.
 */
class HeadTuningConfigTest {

    private static final VisionTransformerConfig TINY = VisionTransformerConfig.builder().name("tiny").inChannels(1)
            .imageHeight(8).imageWidth(8).patchSize(4).hiddenSize(12).depth(6).numHeads(2).mlpSize(24).build()
            .validated();
    private static final int CLASSES = 3;

    private static ComputationGraph trained(TuningMethod method, int fits) {
        TrainingRecipe recipe = TrainingRecipe.builder().epochs(1).warmupEpochs(0).batchSize(4).learningRate(1e-2)
                .weightDecay(0.05).build();
        ComputationGraph graph = Trainer.newGraph(method, recipe, 4);
        Nd4j.getRandom().setSeed(3);
        INDArray images = Nd4j.rand(DataType.FLOAT, 4, 1, 8, 8);
        INDArray labels = Nd4j.eye(CLASSES).getRows(0, 1, 2, 0).castTo(DataType.FLOAT);
        for (int i = 0; i < fits; i++) {
            graph.fit(new MultiDataSet(new INDArray[]{images}, method.labels(labels)));
        }
        return graph;
    }

    @Test
    void theLinearProbeTrainsTheHeadOnlyAndSavesIt(@TempDir Path dir) {
        HeadTuningConfig probe = HeadTuningConfig.linearProbe(TINY, CLASSES);
        ComputationGraph before = trained(probe, 0);
        ComputationGraph after = trained(probe, 3);
        for (String layer : List.of(VisionTransformer.EMBEDDING, VisionTransformer.block(0),
                VisionTransformer.block(5), VisionTransformer.FEATURES)) {
            assertEquals(before.getLayer(layer).params(), after.getLayer(layer).params(), layer + " must stay frozen");
        }
        assertFalse(before.getLayer(VisionTransformer.HEAD).params().equals(after.getLayer(VisionTransformer.HEAD)
                .params()), "the head must train");
        assertEquals((12 + 1) * CLASSES, probe.trainableParameters());

        Path file = dir.resolve("probe.safetensors");
        probe.writeTrained(file, after);
        assertEquals(Set.of("head.weight", "head.bias"), SafetensorsReader.read(file).keys());
        assertTrue(SafetensorsReader.metadata(file).get(HeadTuningConfig.CONFIG_KEY).contains("\"method\":\"vit\""));
    }

    @Test
    void fullFineTuningTrainsEverythingAndSavesALoadableCheckpoint(@TempDir Path dir) {
        HeadTuningConfig full = HeadTuningConfig.fullFineTuning(TINY, CLASSES);
        ComputationGraph before = trained(full, 0);
        ComputationGraph after = trained(full, 2);
        for (String layer : List.of(VisionTransformer.EMBEDDING, VisionTransformer.block(0), VisionTransformer.HEAD)) {
            assertFalse(before.getLayer(layer).params().equals(after.getLayer(layer).params()), layer + " must train");
        }
        assertEquals(after.numParams(), full.trainableParameters(), "trainable count = every parameter");

        Path file = dir.resolve("full.safetensors");
        full.writeTrained(file, after);
        VitCheckpoint checkpoint = VitCheckpoint.read(file, VitCheckpoint.Options.defaults().withNumHeads(2));
        ComputationGraph reloaded = VisionTransformer.create(((VisionTransformerConfig) full.getBackbone()).withNumClasses(full.getNumClasses()));
        checkpoint.assignTo(reloaded, ((VisionTransformerConfig) full.getBackbone()).withNumClasses(full.getNumClasses()));
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 1, 8, 8);
        assertEquals(VisionTransformer.logits(after, x), VisionTransformer.logits(reloaded, x));
    }

    @Test
    void loadingABackboneNeverCopiesItsHeadIntoANewTask() {
        ComputationGraph source = trained(HeadTuningConfig.fullFineTuning(TINY, CLASSES), 1);
        VitCheckpoint checkpoint = VitCheckpoint.infer(VitCheckpoint.export(source, TINY.withNumClasses(CLASSES)),
                OptionalInt.of(2), VitCheckpoint.Options.defaults());
        HeadTuningConfig probe = HeadTuningConfig.linearProbe(TINY, CLASSES);
        ComputationGraph target = trained(probe, 0);
        INDArray freshHead = target.getLayer(VisionTransformer.HEAD).params().dup();
        probe.loadBackbone(target, checkpoint);
        assertEquals(freshHead, target.getLayer(VisionTransformer.HEAD).params(), "same class count, still a new head");
        assertEquals(source.getLayer(VisionTransformer.block(3)).params(),
                target.getLayer(VisionTransformer.block(3)).params());
    }

    @Test
    void everyMethodBuildsAndItsConfigurationSurvivesTheTrainingState() {
        for (String method : TuningMethods.names()) {
            TuningMethod config = TuningMethods.create(method, TINY.withNumClasses(10), CLASSES);
            assertEquals(method, config.methodName());
            assertEquals(0, ((VisionTransformerConfig) config.getBackbone()).getNumClasses(),
                    "the backbone's own head is dropped");
            ComputationGraph graph = trained(config, 1);
            assertEquals(CLASSES, graph.output(false, Nd4j.rand(DataType.FLOAT, 2, 1, 8, 8))[0].size(1));

            TrainingState state = new TrainingState();
            state.setConfig(config);
            state.setRecipe(TrainingRecipe.paper());
            TrainingState read = TrainingState.fromJson(state.toJson(), "test");
            assertEquals(config, read.getConfig(), method);
        }
        assertEquals("vpt-deep", TuningMethods.canonicalName("VPT_deep"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TuningMethods.canonicalName("lora"));
        assertEquals("unknown method 'lora'; expected one of linear-probe, vpt-shallow, vpt-deep, full-finetune, sa2vp",
                e.getMessage());
    }

    @Test
    void sa2vpDefaultsFollowTheAuthorsLayerScheduleAtAnyDepth() {
        Sa2vpConfig twelve = Sa2vpConfig.of(VisionTransformerConfig.named("vit_base_patch16_224"), 10);
        assertEquals(List.of(0, 4, 8), twelve.getImageToPromptLayers());
        assertEquals(List.of(4, 8), twelve.getDeepPromptLayers());
        assertEquals(Sa2vpConfig.builder().backbone(twelve.getBackbone()).numClasses(10).build(), twelve,
                "the authors' defaults at depth 12");
        Sa2vpConfig six = Sa2vpConfig.of(TINY, CLASSES);
        assertEquals(List.of(0, 2, 4), six.getImageToPromptLayers());
        assertEquals(List.of(2, 4), six.getDeepPromptLayers());
        // Files written before the method field existed (adapter metadata, state.json) read as SA2VP.
        String legacy = twelve.toJson().replace("\"method\":\"sa2vp\",", "");
        assertFalse(legacy.contains("\"method\""));
        assertEquals(twelve, Sa2vpConfig.fromJson(legacy));
        TrainingState state = new TrainingState();
        state.setConfig(twelve);
        state.setRecipe(TrainingRecipe.paper());
        String legacyState = state.toJson().replaceAll("\"method\"\\s*:\\s*\"sa2vp\"\\s*,", "");
        assertFalse(legacyState.contains("\"method\""));
        assertEquals(twelve, assertInstanceOf(Sa2vpConfig.class, TrainingState.fromJson(legacyState, "old").getConfig()));
    }
}
