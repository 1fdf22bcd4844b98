package org.sa2vp.baseline;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.sa2vp.TestFixtures;
import org.sa2vp.backbone.vit.TokenPooling;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitCheckpoint;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * VPT-shallow and VPT-deep against an independent PyTorch implementation ({@code tools/reference/vpt}): a 3-block
 * ViT (image 16, patch 4, width 24, 2 heads) loaded from a timm-named safetensors file through {@link VitCheckpoint},
 * P = 3 prompts, 5 classes, batch 3; VPT-shallow and VPT-deep on the class token, and VPT-deep on mean pooling
 * (patch tokens only). Logits, loss and the gradients of every trainable tensor (prompts, head), in float64 and
 * float32.
 */
class VptModelParityTest {

    static Path fixture(String name) {
        return TestFixtures.file("vpt", name, "tools/reference/vpt/make_vpt_fixtures.py");
    }

    private static double maxAbs(INDArray a) {
        return a.amaxNumber().doubleValue();
    }

    /** The graph's trainable tensors (or their gradients) under the reference's names and PyTorch layouts. */
    private static Map<String, INDArray> referenceNamed(Map<String, INDArray> byParam, VptConfig config) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        out.put("prompt_embeddings", byParam.get(VptModel.prompts(0) + "_" + VisualPromptTokens.PROMPTS));
        if (config.isDeep()) {
            INDArray[] sets = new INDArray[config.getBackbone().getDepth() - 1];
            for (int i = 1; i <= sets.length; i++) {
                sets[i - 1] = byParam.get(VptModel.prompts(i) + "_" + VisualPromptTokens.PROMPTS);
            }
            out.put("deep_prompt_embeddings", Nd4j.stack(0, sets));
        }
        out.put("head.weight", byParam.get(VptModel.HEAD + "_W").transpose());
        out.put("head.bias", byParam.get(VptModel.HEAD + "_b").reshape(config.getNumClasses()));
        return out;
    }

    /** Writes the reference's trainable tensors into the graph. */
    private static void loadTrainables(ComputationGraph graph, VptConfig config, Map<String, INDArray> ref) {
        VptModel.promptTokens(graph, 0).assign(ref.get("param/prompt_embeddings").reshape(
                config.getNumPromptTokens(), config.getBackbone().getHiddenSize()));
        if (config.isDeep()) {
            INDArray deep = ref.get("param/deep_prompt_embeddings");
            for (int i = 1; i < config.getBackbone().getDepth(); i++) {
                VptModel.promptTokens(graph, i).assign(deep.get(NDArrayIndex.point(i - 1), NDArrayIndex.all(),
                        NDArrayIndex.all()));
            }
        }
        graph.getParam(VptModel.HEAD + "_W").assign(ref.get("param/head.weight").transpose());
        graph.getParam(VptModel.HEAD + "_b").assign(ref.get("param/head.bias").reshape(1, config.getNumClasses()));
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"vpt_shallow.json, DOUBLE, 1e-12, 1e-10",
            "vpt_deep.json, DOUBLE, 1e-12, 1e-10",
            "vpt_deep_mean.json, DOUBLE, 1e-12, 1e-10",
            "vpt_shallow.json, FLOAT, 1e-5, 1e-5",
            "vpt_deep.json, FLOAT, 1e-5, 1e-5",
            "vpt_deep_mean.json, FLOAT, 1e-5, 1e-5"})
    void matchesThePyTorchReference(String json, DataType dataType, double tolerance, double gradientTolerance)
            throws Exception {
        DataType previous = Nd4j.defaultFloatingPointType();
        Nd4j.setDefaultDataTypes(dataType, dataType);
        try {
            JsonNode c = new ObjectMapper().readTree(Files.readString(fixture(json)));
            VitCheckpoint backbone = VitCheckpoint.read(fixture(c.get("backbone").asText()),
                    VitCheckpoint.Options.defaults().withNumHeads(c.get("numHeads").asInt()));
            assertEquals(c.get("mlpSize").asInt(), backbone.config().effectiveMlpSize());
            VisionTransformerConfig vit = backbone.config().withPooling(TokenPooling.valueOf(c.get("pooling").asText()));
            VptConfig config = VptConfig.builder().backbone(vit).numClasses(c.get("numClasses").asInt())
                    .numPromptTokens(c.get("numPromptTokens").asInt()).deep(c.get("deep").asBoolean()).build()
                    .validated();
            ComputationGraph graph = new ComputationGraph(VptModel.configuration(config,
                    new NeuralNetConfiguration.Builder().dataType(dataType).updater(new NoOp())));
            graph.init();
            VptModel.loadBackbone(graph, config, backbone);
            Map<String, INDArray> ref = Nd4j.createFromNpzFile(new File(fixture(c.get("case").asText()).toString()));
            loadTrainables(graph, config, ref);

            INDArray x = ref.get("input").castTo(dataType);
            INDArray labels = Nd4j.zeros(dataType, x.size(0), config.getNumClasses());
            for (int i = 0; i < x.size(0); i++) {
                labels.putScalar(i, (int) ref.get("labels").getDouble(i), 1.0);
            }
            double logits = maxAbs(VptModel.logits(graph, x).castTo(DataType.DOUBLE).sub(ref.get("logits")));
            graph.setInputs(x);
            graph.setLabels(VptModel.labels(labels));
            graph.computeGradientAndScore();
            double loss = Math.abs(graph.score() - ref.get("loss").getDouble(0));

            // DL4J's graph gradient is summed over the minibatch (its updater divides by the batch size); the
            // reference differentiates the mean loss.
            Map<String, INDArray> byParam = new LinkedHashMap<>(graph.gradient().gradientForVariable());
            Map<String, INDArray> grads = referenceNamed(byParam, config);
            grads.replaceAll((k, v) -> v.castTo(DataType.DOUBLE).div(x.size(0)));
            double worst = 0;
            String worstName = "";
            for (Map.Entry<String, INDArray> e : grads.entrySet()) {
                INDArray expected = ref.get("grad/" + e.getKey());
                assertTrue(expected != null, "reference has no gradient for " + e.getKey());
                double rel = maxAbs(e.getValue().sub(expected)) / Math.max(maxAbs(expected), 1e-12);
                if (rel > worst) {
                    worst = rel;
                    worstName = e.getKey();
                }
            }
            System.out.printf("%s %s: max|Δ| logits %.2e, loss %.2e; %d trainable gradients, worst relative error "
                    + "%.2e (%s)%n", json, dataType, logits, loss, grads.size(), worst, worstName);
            assertTrue(logits <= tolerance && loss <= tolerance, "logits " + logits + ", loss " + loss);
            assertTrue(worst <= gradientTolerance, worstName + " relative error " + worst);
            graph.fit(new MultiDataSet(new INDArray[]{x}, VptModel.labels(labels)));
        } finally {
            Nd4j.setDefaultDataTypes(previous, previous);
        }
    }
}
