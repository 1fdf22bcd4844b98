package org.sa2vp.model;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.sa2vp.TestFixtures;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.backbone.weights.NpzReader;
import org.sa2vp.backbone.weights.SafetensorsReader;
import org.sa2vp.backbone.weights.StateDict;
import org.sa2vp.layers.Implementation;
import org.sa2vp.layers.runtime.AdapterActivation;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole SA2VP-ViT model against an independent PyTorch implementation written from docs/AUTHORS-CODE.md §1
 * ({@code tools/reference/sa2vp}): a 12-layer tiny ViT with a 5×5 grid, the Google-format backbone and the
 * trainable tensors under the authors' state-dict names. Logits and loss within 1e-4, every trainable gradient
 * within 1e-3 relative (float32); far tighter in float64. Default configuration and a variant (other layer sets,
 * one deep map, window 5, ReLU adapter, λ = 1).
 */
class Sa2vpModelParityTest {

    static Path fixture(String name) {
        return TestFixtures.file("sa2vp", name, "tools/reference/sa2vp/make_sa2vp_fixtures.py");
    }

    /** The configuration a fixture's JSON describes, dropout off (the reference ran in eval mode). */
    static Sa2vpConfig config(String json) throws Exception {
        JsonNode c = new ObjectMapper().readTree(Files.readString(fixture(json)));
        VitCheckpoint backbone = VitCheckpoint.read(fixture(c.get("backbone").asText()),
                VitCheckpoint.Options.defaults());
        List<Integer> i2p = new ArrayList<>();
        c.get("imageToPromptLayers").forEach(n -> i2p.add(n.asInt()));
        List<Integer> deep = new ArrayList<>();
        c.get("deepPromptLayers").forEach(n -> deep.add(n.asInt()));
        assertEquals(c.get("numHeads").asInt(), backbone.config().getNumHeads());
        return Sa2vpConfig.builder().backbone(backbone.config()).numClasses(c.get("numClasses").asInt())
                .promptRank(c.get("promptRank").asInt()).adapterSize(c.get("adapterSize").asInt())
                .adapterActivation(AdapterActivation.valueOf(c.get("adapterActivation").asText().toUpperCase()))
                .gamma(c.get("gamma").asDouble()).lossWeight(c.get("lambda").asDouble())
                .windowSize(c.get("windowSize").asInt()).imageToPromptLayers(i2p).deepPromptLayers(deep)
                .dropout(0.0).build().validated();
    }

    static ComputationGraph load(Sa2vpConfig config, DataType dataType, String backbone, StateDict params) {
        ComputationGraph graph = new ComputationGraph(Sa2vpModel.configuration(config,
                new NeuralNetConfiguration.Builder().dataType(dataType).updater(new NoOp()), Implementation.FAST));
        graph.init();
        Sa2vpModel.loadBackbone(graph, config, VitCheckpoint.read(fixture(backbone), VitCheckpoint.Options.defaults()));
        AuthorsNames.load(graph, config, params);
        return graph;
    }

    private static double maxAbs(INDArray a) {
        return a.amaxNumber().doubleValue();
    }

    @ParameterizedTest(name = "{0} {2} {3}")
    @CsvSource({"config.json, sa2vp_params.npz, FLOAT, 1e-4",
            "config.json, sa2vp_params.safetensors, FLOAT, 1e-4",
            "config.json, sa2vp_params.npz, DOUBLE, 1e-9",
            "case_variants.json, sa2vp_params_variants.npz, FLOAT, 1e-4",
            "case_variants.json, sa2vp_params_variants.npz, DOUBLE, 1e-9"})
    void matchesThePyTorchReference(String json, String paramsFile, DataType dataType, double tolerance)
            throws Exception {
        DataType previous = Nd4j.defaultFloatingPointType();
        Nd4j.setDefaultDataTypes(dataType, dataType);
        try {
            Sa2vpConfig config = config(json);
            JsonNode c = new ObjectMapper().readTree(Files.readString(fixture(json)));
            StateDict params = paramsFile.endsWith(".safetensors") ? SafetensorsReader.read(fixture(paramsFile))
                    : NpzReader.readNpz(fixture(paramsFile));
            ComputationGraph graph = load(config, dataType, c.get("backbone").asText(), params);
            Map<String, INDArray> ref = Nd4j.createFromNpzFile(new File(fixture(c.get("case").asText()).toString()));
            INDArray x = ref.get("input").castTo(dataType);
            INDArray labels = Nd4j.zeros(dataType, x.size(0), config.getNumClasses());
            for (int i = 0; i < x.size(0); i++) {
                labels.putScalar(i, (int) ref.get("labels").getDouble(i), 1.0);
            }
            INDArray[] logits = Sa2vpModel.logits(graph, x);
            double image = maxAbs(logits[0].castTo(DataType.DOUBLE).sub(ref.get("logits_img")));
            double prompt = maxAbs(logits[1].castTo(DataType.DOUBLE).sub(ref.get("logits_prm")));
            graph.setInputs(x);
            graph.setLabels(Sa2vpModel.labels(labels));
            graph.computeGradientAndScore();
            double loss = Math.abs(graph.score() - ref.get("loss").getDouble(0));
            System.out.printf("%s %s %s: max|Δ| image logits %.2e, prompt logits %.2e, loss %.2e%n", json,
                    paramsFile, dataType, image, prompt, loss);
            assertTrue(image <= tolerance && prompt <= tolerance && loss <= tolerance,
                    "image " + image + ", prompt " + prompt + ", loss " + loss);

            // DL4J's graph gradient is summed over the minibatch (its updater divides by the batch size); the
            // reference differentiates the mean loss.
            Map<String, INDArray> grads = AuthorsNames.export(AuthorsNames.Tables.gradients(graph), config);
            grads.replaceAll((k, v) -> v.div(x.size(0)));
            double worst = 0;
            String worstName = "";
            for (Map.Entry<String, INDArray> e : grads.entrySet()) {
                INDArray expected = ref.get("grad/" + e.getKey());
                assertTrue(expected != null, "reference has no gradient for " + e.getKey());
                double rel = maxAbs(e.getValue().castTo(DataType.DOUBLE).sub(expected)) / Math.max(maxAbs(expected),
                        1e-12);
                if (System.getenv("SA2VP_DEBUG") != null) {
                    System.out.printf("    %-70s rel %.2e ours %.3e ref %.3e%n", e.getKey(), rel, maxAbs(e.getValue()),
                            maxAbs(expected));
                }
                if (rel > worst) {
                    worst = rel;
                    worstName = e.getKey();
                }
            }
            System.out.printf("  %d trainable gradients, worst relative error %.2e (%s)%n", grads.size(), worst,
                    worstName);
            double gradientTolerance = dataType == DataType.FLOAT ? 1e-3 : 1e-7;
            assertTrue(worst <= gradientTolerance, worstName + " relative error " + worst);
            graph.fit(new MultiDataSet(new INDArray[]{x}, Sa2vpModel.labels(labels)));
        } finally {
            Nd4j.setDefaultDataTypes(previous, previous);
        }
    }
}
