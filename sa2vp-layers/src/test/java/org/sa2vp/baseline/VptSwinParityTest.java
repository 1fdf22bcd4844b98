package org.sa2vp.baseline;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.sa2vp.TestFixtures;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.swin.SwinCheckpoint;
import org.sa2vp.backbone.swin.SwinTransformerConfig;
import org.sa2vp.layers.Implementation;
import org.sa2vp.method.TuningMethods;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * VPT-deep and VPT-shallow on a Swin against an independent PyTorch implementation
 * ({@code tools/reference/vpt/make_vpt_swin_fixtures.py}, float64, a hand-written prompted window attention checked
 * against torchvision's blocks): image 32, patch 2, embed 8, depths 2-2-2, heads 1-2-2, window 4 (16×16, 8×8, 4×4
 * maps), P = 3, 5 classes, batch 2, the backbone from a safetensors file in Microsoft's names. Logits, loss and every
 * trainable gradient (prompt sets under VPT's names, head): FAST and SameDiff in float64, FAST in float32.
 */
class VptSwinParityTest {

    static Path fixture(String name) {
        return TestFixtures.file("vpt-swin", name, "tools/reference/vpt/make_vpt_swin_fixtures.py");
    }

    private static double maxAbs(INDArray a) {
        return a.amaxNumber().doubleValue();
    }

    private record Case(VptSwinConfig config, SwinCheckpoint backbone, Map<String, INDArray> reference) {
    }

    private static Case read(String json) throws Exception {
        JsonNode c = new ObjectMapper().readTree(Files.readString(fixture(json)));
        SwinTransformerConfig swin = TestFixtures.swin(c, "layerNormEps");
        VptSwinConfig config = VptSwinConfig.builder().backbone(swin).numClasses(c.get("numClasses").asInt())
                .numPromptTokens(c.get("numPromptTokens").asInt()).deep(c.get("deep").asBoolean()).build().validated();
        SwinCheckpoint backbone = SwinCheckpoint.read(fixture(c.get("backbone").asText()),
                CheckpointOptions.of(swin).withStrict(false));
        return new Case(config, backbone,
                Nd4j.createFromNpzFile(new File(fixture(c.get("case").asText()).toString())));
    }

    /** The reference's name of the prompt set that vertex {@code prompts.k} holds, and the row within it. */
    private static String[] referenceSet(VptSwinConfig config, int k) {
        if (k == 0) {
            return new String[]{"prompt_embeddings", "0"};
        }
        List<Integer> depths = config.getBackbone().getDepths();
        int stage = 0, first = 0;
        while (k >= first + depths.get(stage)) {
            first += depths.get(stage);
            stage++;
        }
        int row = k - first - (stage == 0 ? 1 : 0);
        return new String[]{"deep_prompt_embeddings_" + stage, Integer.toString(row)};
    }

    private static INDArray row(INDArray sets, String index) {
        return sets.get(NDArrayIndex.point(Integer.parseInt(index)), NDArrayIndex.all(), NDArrayIndex.all());
    }

    private static ComputationGraph graph(Case c, DataType type, Implementation implementation) {
        ComputationGraph graph = new ComputationGraph(VptSwinModel.configuration(c.config(),
                new NeuralNetConfiguration.Builder().dataType(type).updater(new NoOp()), implementation));
        graph.init();
        VptSwinModel.loadBackbone(graph, c.config(), c.backbone());
        for (int k = 0; k < c.config().numPromptSets(); k++) {
            String[] set = referenceSet(c.config(), k);
            VptModel.promptTokens(graph, k).assign(row(c.reference().get("param/" + set[0]), set[1]));
        }
        graph.getParam(VptSwinModel.HEAD + "_W").assign(c.reference().get("param/head.weight").transpose());
        graph.getParam(VptSwinModel.HEAD + "_b").assign(c.reference().get("param/head.bias")
                .reshape(1, c.config().getNumClasses()));
        return graph;
    }

    private static INDArray labels(Case c, DataType type) {
        INDArray ref = c.reference().get("labels");
        INDArray labels = Nd4j.zeros(type, ref.length(), c.config().getNumClasses());
        for (int i = 0; i < ref.length(); i++) {
            labels.putScalar(i, (int) ref.getDouble(i), 1.0);
        }
        return labels;
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource({"vpt_swin_deep.json, DOUBLE, FAST, 1e-10, 1e-9",
            "vpt_swin_shallow.json, DOUBLE, FAST, 1e-10, 1e-9",
            "vpt_swin_deep.json, DOUBLE, SAMEDIFF, 1e-10, 1e-9",
            "vpt_swin_shallow.json, DOUBLE, SAMEDIFF, 1e-10, 1e-9",
            "vpt_swin_deep.json, FLOAT, FAST, 1e-5, 1e-4",
            "vpt_swin_shallow.json, FLOAT, FAST, 1e-5, 1e-4"})
    void matchesThePyTorchReference(String json, DataType type, Implementation implementation, double tolerance,
                                    double gradientTolerance) throws Exception {
        DataType previous = Nd4j.defaultFloatingPointType();
        Nd4j.setDefaultDataTypes(type, type);
        try {
            Case c = read(json);
            ComputationGraph graph = graph(c, type, implementation);
            INDArray x = c.reference().get("input").castTo(type);
            INDArray y = labels(c, type);
            double logits = maxAbs(graph.feedForward(new INDArray[]{x}, false).get(VptSwinModel.HEAD)
                    .castTo(DataType.DOUBLE).sub(c.reference().get("logits")));
            graph.setInputs(x);
            graph.setLabels(y);
            graph.computeGradientAndScore();
            double loss = Math.abs(graph.score() - c.reference().get("loss").getDouble(0));

            // DL4J's gradient is summed over the batch; the reference differentiates the mean loss.
            Map<String, INDArray> byParam = graph.gradient().gradientForVariable();
            Map<String, List<INDArray>> sets = new LinkedHashMap<>();
            for (int k = 0; k < c.config().numPromptSets(); k++) {
                sets.computeIfAbsent(referenceSet(c.config(), k)[0], name -> new ArrayList<>())
                        .add(byParam.get(VptModel.prompts(k) + "_" + VisualPromptTokens.PROMPTS));
            }
            Map<String, INDArray> grads = new LinkedHashMap<>();
            sets.forEach((name, list) -> grads.put(name, Nd4j.stack(0, list.toArray(new INDArray[0]))));
            grads.put("head.weight", byParam.get(VptSwinModel.HEAD + "_W").transpose());
            grads.put("head.bias", byParam.get(VptSwinModel.HEAD + "_b").reshape(c.config().getNumClasses()));
            assertEquals(c.reference().keySet().stream().filter(k -> k.startsWith("grad/")).count(), grads.size());
            double worst = 0;
            String worstName = "";
            for (Map.Entry<String, INDArray> e : grads.entrySet()) {
                INDArray expected = c.reference().get("grad/" + e.getKey());
                INDArray actual = e.getValue().castTo(DataType.DOUBLE).div(x.size(0)).reshape(expected.shape());
                double rel = maxAbs(actual.sub(expected)) / Math.max(maxAbs(expected), 1e-12);
                if (rel > worst) {
                    worst = rel;
                    worstName = e.getKey();
                }
            }
            System.out.printf("%s %s %s: max|Δ| logits %.2e, loss %.2e; %d trainable gradients, worst relative "
                    + "error %.2e (%s)%n", json, type, implementation, logits, loss, grads.size(), worst, worstName);
            assertTrue(logits <= tolerance && loss <= tolerance, "logits " + logits + ", loss " + loss);
            assertTrue(worst <= gradientTolerance, worstName + " relative error " + worst);
        } finally {
            Nd4j.setDefaultDataTypes(previous, previous);
        }
    }

    /**
     * A training step moves exactly the prompts and the head; the trained file reloads into a new graph with the
     * same logits to the bit; the configuration survives its JSON by the registered id.
     */
    @Test
    void trainsOnlyPromptsAndHeadAndReloadsItsTrainedFile(@TempDir Path dir) throws Exception {
        Case c = read("vpt_swin_deep.json");
        ComputationGraph graph = new ComputationGraph(c.config().configuration(new NeuralNetConfiguration.Builder()
                .seed(3).dataType(DataType.FLOAT).updater(new Adam(1e-2))));
        graph.init();
        c.config().loadBackbone(graph, c.backbone());
        INDArray x = c.reference().get("input").castTo(DataType.FLOAT);
        Map<String, INDArray> before = new LinkedHashMap<>();
        graph.paramTable().forEach((name, value) -> before.put(name, value.dup()));
        graph.fit(new MultiDataSet(new INDArray[]{x}, new INDArray[]{labels(c, DataType.FLOAT)}));
        long trainableValues = 0, moved = 0;
        for (Map.Entry<String, INDArray> e : graph.paramTable().entrySet()) {
            boolean trainable = e.getKey().startsWith("prompts.") || e.getKey().startsWith(VptSwinModel.HEAD + "_");
            if (trainable) {
                trainableValues += e.getValue().length();
                moved += before.get(e.getKey()).neq(e.getValue()).castTo(DataType.LONG).sumNumber().longValue();
            } else {
                assertEquals(before.get(e.getKey()), e.getValue(), "frozen " + e.getKey() + " changed");
            }
        }
        assertEquals(c.config().trainableParameters(), trainableValues);
        assertTrue(moved > trainableValues / 2, moved + " of " + trainableValues + " trainable values moved");

        Path file = dir.resolve("vpt.safetensors");
        c.config().writeTrained(file, graph);
        ComputationGraph fresh = new ComputationGraph(c.config().configuration(new NeuralNetConfiguration.Builder()
                .seed(99).dataType(DataType.FLOAT).updater(new NoOp())));
        fresh.init();
        c.config().loadBackbone(fresh, c.backbone());
        c.config().loadTrained(fresh, file);
        assertEquals(graph.feedForward(new INDArray[]{x}, false).get(VptSwinModel.HEAD),
                fresh.feedForward(new INDArray[]{x}, false).get(VptSwinModel.HEAD));

        VptSwinConfig restored = assertInstanceOf(VptSwinConfig.class, TuningMethods.fromJson(c.config().toJson()));
        assertEquals(c.config(), restored);
        assertTrue(c.config().toJson().contains("\"method\":\"vpt-swin\""), c.config().toJson());
    }
}
