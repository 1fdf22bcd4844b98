package org.sa2vp.method;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.sa2vp.backbone.Backbone;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.Backbones;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.swin.SwinTransformerConfig;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.weights.SafetensorsWriter;
import org.sa2vp.data.InMemoryImages;
import org.sa2vp.train.ProgressBar;
import org.sa2vp.train.Trainer;
import org.sa2vp.train.TrainingRecipe;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The contract every registered tuning method keeps, checked on each variant {@link TuningMethods} knows in this
 * module's test class path: the production methods and the test-only {@code mlp-probe}
 * ({@code org.sa2vp.extension.MlpProbeConfig}), so a new method inherits these checks by registering. On each tiny
 * backbone it builds on (8×8 grey images: a ViT of patch 4, width 8, depth 3; a Swin of patch 2, embed dim 4, depths
 * [2, 2], window 2) and 8 images of 3 classes, each method must: survive its JSON
 * (by its registered id), build, take a pretrained backbone (its outputs change), train two steps with the
 * {@link Trainer} (a finite loss, and no more values change than it says it trains), and write what it trained so
 * that a new graph with the same backbone and that file computes the same logits, bit for bit.
 */
class TuningMethodContractTest {

    private static final VisionTransformerConfig TINY = VisionTransformerConfig.builder().inChannels(1)
            .imageHeight(8).imageWidth(8).patchSize(4).hiddenSize(8).depth(3).numHeads(2).build().validated();
    private static final SwinTransformerConfig TINY_SWIN = SwinTransformerConfig.builder().inChannels(1)
            .imageHeight(8).imageWidth(8).patchSize(2).embedDim(4).depths(List.of(2, 2)).numHeads(List.of(1, 2))
            .windowSize(2).build().validated();
    private static final List<Backbone> BACKBONES = List.of(TINY, TINY_SWIN);
    private static final int CLASSES = 3;
    private static final int IMAGES = 8;

    /** Every registered variant on every tiny backbone of a family it builds on. */
    static Stream<Arguments> variants() {
        return TuningMethods.variants().stream().flatMap(variant -> BACKBONES.stream()
                .filter(backbone -> variant.buildsOn(backbone.family()))
                .map(backbone -> Arguments.of(variant, backbone.family(), backbone)));
    }

    @Test
    void everyRegisteredMethodBuildsOnATinyBackboneOfThisTest() {
        for (MethodVariant variant : TuningMethods.variants()) {
            assertTrue(BACKBONES.stream().anyMatch(backbone -> variant.buildsOn(backbone.family())), variant.name()
                    + " builds on " + variant.backboneFamily() + ": add a tiny backbone of that family to this test");
        }
    }

    @Test
    void theTestOnlyMethodIsRegisteredBesideTheProductionOnes() {
        assertEquals(List.of("linear-probe", "vpt-shallow", "vpt-deep", "full-finetune", "sa2vp", "mlp-probe"),
                TuningMethods.names());
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("variants")
    void everyRegisteredMethodKeepsTheContract(MethodVariant variant, String family, Backbone backbone,
                                               @TempDir Path dir) {
        TuningMethod config = TuningMethods.create(variant.name(), backbone, CLASSES);
        assertEquals(variant.name(), config.methodName());
        assertEquals(config, TuningMethods.fromJson(config.toJson()), "JSON round trip by the registered id");
        assertEquals(config.lossWeights().length, config.logitVertices().size());

        TrainingRecipe recipe = TrainingRecipe.builder().epochs(1).warmupEpochs(0).batchSize(4).learningRate(1e-2)
                .seed(7).build().validated();
        BackboneCheckpoint checkpoint = pretrained(backbone, dir);
        INDArray images = Nd4j.rand(DataType.FLOAT, IMAGES, 1, 8, 8);
        ComputationGraph graph = Trainer.newGraph(config, recipe, IMAGES);
        INDArray standIns = logits(graph, config, images);
        config.loadBackbone(graph, checkpoint);
        assertNotEquals(standIns, logits(graph, config, images), "the pretrained backbone changes the outputs");

        INDArray before = graph.params().dup();
        int[] labels = new int[IMAGES];
        for (int i = 0; i < IMAGES; i++) {
            labels[i] = i % CLASSES;
        }
        Trainer trainer = Trainer.start(graph, config, recipe, new InMemoryImages(images, labels, CLASSES), null,
                dir).progress(new ProgressBar(new PrintStream(OutputStream.nullOutputStream()), false));
        Trainer.Result result = trainer.fit();
        assertTrue(result.finished());
        assertEquals(2, result.iterations());
        assertTrue(Double.isFinite(trainer.history().get(0).getTrainLoss()));
        long changed = before.neq(graph.params()).castTo(DataType.LONG).sumNumber().longValue();
        assertTrue(changed > 0 && changed <= config.trainableParameters(), variant.name() + ": " + changed
                + " values changed, the method trains " + config.trainableParameters());

        ComputationGraph reloaded = Trainer.newGraph(config, recipe, IMAGES);
        config.loadBackbone(reloaded, checkpoint);
        assertFalse(logits(reloaded, config, images).equals(logits(graph, config, images)),
                "before the trained file, a new graph differs");
        config.loadTrained(reloaded, dir.resolve(Trainer.ADAPTER));
        for (String vertex : config.logitVertices()) {
            INDArray expected = graph.feedForward(new INDArray[]{images}, false).get(vertex);
            INDArray actual = reloaded.feedForward(new INDArray[]{images}, false).get(vertex);
            assertEquals(0.0, expected.sub(actual).amaxNumber().doubleValue(), 0.0,
                    variant.name() + " " + vertex + " after reloading what it trained");
        }

        // One image at a time (predict on one file, an evaluation's last batch of one) gives the batch's rows.
        INDArray all = logits(graph, config, images);
        for (int i = 0; i < 2; i++) {
            INDArray single = logits(graph, config, images.get(NDArrayIndex.interval(i, i + 1)).dup());
            assertEquals(0.0, single.sub(all.getRow(i, true)).amaxNumber().doubleValue(), 1e-5,
                    variant.name() + ": image " + i + " alone");
        }
    }

    /** A random backbone exported under its family's names to a file and read back as its family reads it. */
    private static BackboneCheckpoint pretrained(Backbone backbone, Path dir) {
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder().seed(3)
                .dataType(DataType.FLOAT).graphBuilder().addInputs("image").setInputTypes(InputType.convolutional(
                        backbone.getImageHeight(), backbone.getImageWidth(), backbone.getInChannels()));
        ComputationGraph random = new ComputationGraph(g.setOutputs(backbone.addFeatureExtractor(g, "image", false))
                .build());
        random.init();
        Path file = dir.resolve("pretrained.safetensors");
        SafetensorsWriter.write(file, backbone.exportFeatureExtractor(random).tensors(), Map.of());
        return Backbones.read(file, CheckpointOptions.of(backbone));
    }

    private static INDArray logits(ComputationGraph graph, TuningMethod config, INDArray images) {
        return graph.feedForward(new INDArray[]{images}, false).get(config.logitVertices().get(0)).dup();
    }
}
