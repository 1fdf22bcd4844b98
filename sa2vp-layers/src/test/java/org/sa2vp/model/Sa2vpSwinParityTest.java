package org.sa2vp.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.sa2vp.TestFixtures;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.swin.SwinCheckpoint;
import org.sa2vp.backbone.swin.SwinTransformerConfig;
import org.sa2vp.backbone.weights.SafetensorsReader;
import org.sa2vp.backbone.weights.StateDict;
import org.sa2vp.layers.Implementation;
import org.sa2vp.layers.Parameters;
import org.sa2vp.method.TuningMethods;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SA2VP-Swin against an independent PyTorch implementation written from docs/AUTHORS-CODE.md §2
 * ({@code tools/reference/sa2vp/make_sa2vp_swin_fixtures.py}: torchvision's Swin blocks, float64): a Swin of 64×64
 * images, patch 2, embed 8, depths 2-2-7-2, heads 1-2-4-8, window 4, the backbone in Microsoft's names and the
 * trainable tensors under the authors' names. In float32, evaluation mode: logits of both streams and the loss within
 * 1e-5, every trainable gradient within 1e-4 relative. Also: the authors' names both ways, the configuration's JSON,
 * the graph through ModelSerializer, and a training step that moves exactly the trainable values.
 */
class Sa2vpSwinParityTest {

    private static JsonNode fixtureConfig;
    private static Sa2vpSwinConfig config;
    private static SwinCheckpoint backbone;
    private static StateDict trainable;
    private static Map<String, INDArray> expected;
    private static INDArray images;
    private static INDArray labels;

    static Path fixture(String name) {
        return TestFixtures.file("sa2vp-swin", name, "tools/reference/sa2vp/make_sa2vp_swin_fixtures.py");
    }

    @BeforeAll
    static void readFixtures() throws Exception {
        JsonNode c = new ObjectMapper().readTree(Files.readString(fixture("config.json")));
        fixtureConfig = c;
        SwinTransformerConfig swin = TestFixtures.swin(c, "backboneLayerNormEps");
        config = Sa2vpSwinConfig.builder().backbone(swin).numClasses(c.get("numClasses").asInt())
                .interactionStage(c.get("interactionStage").asInt()).imageToPromptBlocks(TestFixtures.ints(c.get(
                        "imageToPromptBlocks"))).windowSize(c.get("localWindow").asInt())
                .promptRank(c.get("promptRank").asInt()).adapterSize(c.get("adapterSize").asInt())
                .gamma(c.get("gamma").asDouble()).lossWeight(c.get("lambda").asDouble())
                .interactionLayerNormEps(c.get("interactionLayerNormEps").asDouble()).attentionDropout(0)
                .adapterDropout(0).build().validated();
        backbone = SwinCheckpoint.read(fixture("backbone.safetensors"), CheckpointOptions.of(swin).withStrict(false));
        trainable = SafetensorsReader.read(fixture("sa2vp.safetensors"));
        expected = Nd4j.createFromNpzFile(new File(fixture("expected.npz").toString()));
        Map<String, INDArray> input = Nd4j.createFromNpzFile(new File(fixture("input.npz").toString()));
        images = input.get("images").castTo(DataType.FLOAT);
        labels = Nd4j.zeros(DataType.FLOAT, images.size(0), config.getNumClasses());
        for (int i = 0; i < images.size(0); i++) {
            labels.putScalar(i, (int) input.get("labels").getDouble(i), 1.0);
        }
    }

    private static ComputationGraph graph(NeuralNetConfiguration.Builder globals) {
        ComputationGraph graph = new ComputationGraph(Sa2vpSwinModel.configuration(config, globals,
                Implementation.FAST));
        graph.init();
        Sa2vpSwinModel.loadBackbone(graph, config, backbone);
        SwinAuthorsNames.load(graph, config, trainable);
        return graph;
    }

    private static double maxAbs(INDArray a) {
        return a.amaxNumber().doubleValue();
    }

    @Test
    void logitsLossAndGradientsMatchThePyTorchReference() {
        ComputationGraph graph = graph(new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT)
                .updater(new NoOp()));
        Map<String, INDArray> activations = graph.feedForward(new INDArray[]{images}, false);
        double image = maxAbs(activations.get(Sa2vpModel.IMAGE_LOGITS).castTo(DataType.DOUBLE)
                .sub(expected.get("logits_image")));
        double prompt = maxAbs(activations.get(Sa2vpModel.PROMPT_LOGITS).castTo(DataType.DOUBLE)
                .sub(expected.get("logits_prompt")));
        graph.setInputs(images);
        graph.setLabels(config.labels(labels));
        graph.computeGradientAndScore();
        double loss = Math.abs(graph.score() - expected.get("loss").getDouble(0));
        System.out.printf("SA2VP-Swin float32: max|Δ| image logits %.2e, prompt logits %.2e, loss %.2e%n", image,
                prompt, loss);
        assertTrue(image <= 1e-5 && prompt <= 1e-5 && loss <= 1e-5,
                "image " + image + ", prompt " + prompt + ", loss " + loss);

        // DL4J's graph gradient is summed over the minibatch; the reference differentiates the mean loss.
        Map<String, INDArray> grads = SwinAuthorsNames.export(AuthorsNames.Tables.gradients(graph), config);
        assertEquals(expected.keySet().stream().filter(k -> k.startsWith("grad/")).count(), grads.size());
        double worst = 0;
        String worstName = "";
        for (Map.Entry<String, INDArray> e : grads.entrySet()) {
            INDArray reference = expected.get("grad/" + e.getKey());
            assertTrue(reference != null, "reference has no gradient for " + e.getKey());
            double rel = maxAbs(e.getValue().div(images.size(0)).castTo(DataType.DOUBLE).sub(reference))
                    / Math.max(maxAbs(reference), 1e-12);
            if (rel > worst) {
                worst = rel;
                worstName = e.getKey();
            }
        }
        System.out.printf("  %d trainable gradients, worst relative error %.2e (%s)%n", grads.size(), worst,
                worstName);
        assertTrue(worst <= 1e-4, worstName + " relative error " + worst);
    }

    @Test
    void authorsNamesMapBothWays() {
        ComputationGraph graph = graph(new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT)
                .updater(new NoOp()));
        Map<String, INDArray> exported = SwinAuthorsNames.export(graph, config);
        assertEquals(trainable.keys(), exported.keySet());
        for (Map.Entry<String, INDArray> e : exported.entrySet()) {
            assertEquals(trainable.get(e.getKey()), e.getValue(), e.getKey());
        }
        assertEquals(config.trainableParameters(), exported.values().stream().mapToLong(INDArray::length).sum());
    }

    @Test
    void configurationSurvivesItsJsonByTheRegisteredId() {
        assertEquals(config, TuningMethods.fromJson(config.toJson()));
        assertEquals(config, Sa2vpSwinConfig.fromJson(config.toJson()));
        assertTrue(config.toJson().contains("\"method\":\"sa2vp-swin\""), config.toJson());
    }

    @Test
    void theGraphSurvivesModelSerializerAndItsConfigurationJson(@TempDir Path dir) throws Exception {
        ComputationGraph graph = graph(new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT)
                .updater(new Adam(1e-2)));
        assertEquals(graph.getConfiguration(), ComputationGraphConfiguration.fromJson(graph.getConfiguration()
                .toJson()));
        File file = dir.resolve("sa2vp-swin.zip").toFile();
        ModelSerializer.writeModel(graph, file, true);
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(file, true);
        for (String vertex : config.logitVertices()) {
            assertEquals(graph.feedForward(new INDArray[]{images}, false).get(vertex),
                    restored.feedForward(new INDArray[]{images}, false).get(vertex), vertex);
        }
    }

    @Test
    void aTrainingStepMovesTheTrainableValuesAndNothingFrozen() {
        ComputationGraph graph = graph(new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT)
                .updater(new Adam(1e-2)));
        INDArray before = graph.params().dup();
        Map<String, INDArray> trainedBefore = SwinAuthorsNames.export(graph, config);
        graph.fit(new MultiDataSet(new INDArray[]{images}, config.labels(labels)));
        long changed = before.neq(graph.params()).castTo(DataType.LONG).sumNumber().longValue();
        long trainableChanged = 0;
        for (Map.Entry<String, INDArray> e : SwinAuthorsNames.export(graph, config).entrySet()) {
            trainableChanged += trainedBefore.get(e.getKey()).neq(e.getValue()).castTo(DataType.LONG).sumNumber()
                    .longValue();
        }
        assertTrue(trainableChanged > config.trainableParameters() / 2, trainableChanged + " trainable values moved");
        assertEquals(trainableChanged, changed, "values that moved outside the trainable tensors");
        assertEquals(Parameters.of(graph, "layers.2.blocks.0").get("norm1Gamma"),
                Parameters.of(graph, Sa2vpSwinModel.crossAttention(2, 0)).get("normGamma"),
                "the cross attention's frozen copy of norm1 stays equal to it");
    }
}
