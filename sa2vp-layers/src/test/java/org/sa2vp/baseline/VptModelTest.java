package org.sa2vp.baseline;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;
import org.sa2vp.Float64;
import org.sa2vp.backbone.vit.TokenPooling;
import org.sa2vp.backbone.vit.VisionTransformer;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.layers.Implementation;

import java.io.File;
import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sa2vp.TestArrays.maxAbsDiff;

/**
 * VPT-shallow and VPT-deep in double precision: DL4J gradient checks of the prompts and head through the frozen
 * ViT, exactly zero backbone gradients, the SameDiff reference runtime against the fast one, freezing under
 * Adam + weight decay, serialisation, graph structure, initialisation and configuration errors.
 */
@ExtendWith(Float64.class)
class VptModelTest {

    /** 8×8 images, 2 channels, patch 4 (2×2 grid, 5 tokens), width 8, 2 heads, MLP 12, 3 blocks; 3 classes, P = 2. */
    private static VptConfig tiny(boolean deep) {
        return tiny(deep, TokenPooling.CLASS_TOKEN);
    }

    private static VptConfig tiny(boolean deep, TokenPooling pooling) {
        VisionTransformerConfig vit = VisionTransformerConfig.builder().inChannels(2).imageHeight(8).imageWidth(8)
                .patchSize(4).hiddenSize(8).depth(3).numHeads(2).mlpSize(12).pooling(pooling).build();
        return VptConfig.builder().backbone(vit).numClasses(3).numPromptTokens(2).deep(deep).build().validated();
    }

    private static NeuralNetConfiguration.Builder globals(IUpdater updater) {
        return new NeuralNetConfiguration.Builder().seed(7).dataType(DataType.DOUBLE).updater(updater);
    }

    /** A graph whose every parameter is perturbed, so LayerNorm gains and biases are non-trivial. */
    private static ComputationGraph graph(VptConfig c, Implementation implementation) {
        ComputationGraph g = new ComputationGraph(VptModel.configuration(c, globals(new NoOp()), implementation));
        g.init();
        Nd4j.getRandom().setSeed(11);
        for (INDArray p : g.paramTable().values()) {
            p.addi(Nd4j.randn(DataType.DOUBLE, p.shape()).muli(0.3));
        }
        return g;
    }

    private static INDArray images(long batch) {
        Nd4j.getRandom().setSeed(3);
        return Nd4j.randn(DataType.DOUBLE, batch, 2, 8, 8);
    }

    private static INDArray labels(long batch) {
        INDArray y = Nd4j.zeros(DataType.DOUBLE, batch, 3);
        for (int i = 0; i < batch; i++) {
            y.putScalar(i, i % 3, 1.0);
        }
        return y;
    }

    private static boolean isTrainable(String param) {
        return param.startsWith("prompts.") || param.startsWith(VptModel.HEAD + "_");
    }

    @ParameterizedTest(name = "deep={0} {1}")
    @CsvSource({"false, CLASS_TOKEN", "true, CLASS_TOKEN", "true, MEAN"})
    void promptsAndHeadPassGradientCheckAndTheBackboneGetsNone(boolean deep, TokenPooling pooling) {
        ComputationGraph g = graph(tiny(deep, pooling), Implementation.FAST);
        Set<String> frozen = new HashSet<>();
        for (String p : g.paramTable().keySet()) {
            if (!isTrainable(p)) {
                frozen.add(p);
            }
        }
        assertTrue(GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig().net(g)
                .inputs(new INDArray[]{images(3)}).labels(new INDArray[]{labels(3)}).epsilon(1e-6)
                .maxRelError(1e-6).minAbsoluteError(1e-10).excludeParams(frozen)));
        g.setInputs(images(3));
        g.setLabels(labels(3));
        g.computeGradientAndScore();
        Map<String, INDArray> grads = g.gradient().gradientForVariable();
        for (String p : frozen) {
            assertEquals(0.0, grads.get(p).amaxNumber().doubleValue(), 0.0, "frozen " + p + " got a gradient");
        }
        for (int i = 0; i < tiny(deep).numPromptSets(); i++) {
            String p = VptModel.prompts(i) + "_" + VisualPromptTokens.PROMPTS;
            assertTrue(grads.get(p).amaxNumber().doubleValue() > 1e-6, p + " got no gradient");
        }
    }

    @Test
    void graphHasTheViTNamesAndOnePromptSetPerBlockWhenDeep() {
        for (boolean deep : new boolean[]{false, true}) {
            VptConfig c = tiny(deep);
            ComputationGraph g = graph(c, Implementation.FAST);
            for (String name : List.of(VisionTransformer.EMBEDDING, VisionTransformer.block(0),
                    VisionTransformer.block(2), VisionTransformer.FEATURES, VisionTransformer.HEAD)) {
                assertTrue(g.getVertex(name) != null, name);
            }
            assertEquals(deep, g.getVertex(VptModel.prompts(2)) != null);
            assertTrue(g.getVertex(VptModel.prompts(0)) != null);
            long trainable = g.paramTable().entrySet().stream().filter(e -> isTrainable(e.getKey()))
                    .mapToLong(e -> e.getValue().length()).sum();
            assertEquals(VptModel.trainableParameterCount(c), trainable);
            assertEquals((deep ? 3 : 1) * 2 * 8 + 8 * 3 + 3, trainable);
            // [B, 5 + P, D] after every block: the prompts travel (shallow) or are replaced (deep).
            Map<String, INDArray> acts = g.feedForward(new INDArray[]{images(2)}, false);
            assertEquals(List.of(2L, 7L, 8L), List.of(acts.get(VisionTransformer.block(2)).shape()[0],
                    acts.get(VisionTransformer.block(2)).shape()[1], acts.get(VisionTransformer.block(2)).shape()[2]));
            assertEquals(0.0, maxAbsDiff(acts.get(VptModel.prompts(0)).get(NDArrayIndex.point(1),
                    NDArrayIndex.interval(1, 3), NDArrayIndex.all()), VptModel.promptTokens(g, 0)), 0.0);
        }
    }

    @Test
    void sameDiffReferenceMatchesFastRuntime() {
        for (VptConfig c : List.of(tiny(false), tiny(true), tiny(false, TokenPooling.MEAN))) {
            ComputationGraph fast = graph(c, Implementation.FAST);
            ComputationGraph reference = new ComputationGraph(VptModel.configuration(c, globals(new NoOp()),
                    Implementation.SAMEDIFF));
            reference.init();
            reference.setParams(fast.params());
            INDArray x = images(3);
            assertTrue(maxAbsDiff(VptModel.logits(fast, x), VptModel.logits(reference, x)) < 1e-12, "logits differ");
            fast.setInputs(x);
            fast.setLabels(labels(3));
            fast.computeGradientAndScore();
            reference.setInputs(x);
            reference.setLabels(labels(3));
            reference.computeGradientAndScore();
            assertEquals(fast.score(), reference.score(), 1e-12);
            for (String p : fast.paramTable().keySet()) {
                if (isTrainable(p)) {
                    double diff = maxAbsDiff(fast.gradient().getGradientFor(p), reference.gradient().getGradientFor(p));
                    assertTrue(diff < 1e-10, p + " gradient differs by " + diff);
                }
            }
        }
    }

    @ParameterizedTest(name = "deep={0}")
    @ValueSource(booleans = {false, true})
    void frozenBackboneStaysBitwiseUnchangedWhilePromptsAndHeadTrain(boolean deep) {
        VptConfig c = tiny(deep).toBuilder().promptDropout(0.1)
                .backbone(tiny(deep).getBackbone().withDropout(0.1)).build().validated();
        ComputationGraph g = new ComputationGraph(VptModel.configuration(c, globals(new Adam(1e-2)).weightDecay(0.05)));
        g.init();
        INDArray before = g.params().dup();
        for (int i = 0; i < 3; i++) {
            g.fit(new MultiDataSet(new INDArray[]{images(4)}, VptModel.labels(labels(4))));
        }
        ComputationGraph fresh = new ComputationGraph(g.getConfiguration().clone());
        fresh.init(before, false);
        for (String p : g.paramTable().keySet()) {
            double moved = maxAbsDiff(fresh.getParam(p), g.getParam(p));
            if (isTrainable(p)) {
                assertNotEquals(0.0, moved, p + " did not train");
            } else {
                assertEquals(0.0, moved, 0.0, p + " moved");
            }
        }
    }

    @Test
    void graphAndConfigurationSurviveSerialisation(@TempDir File dir) throws IOException {
        VptConfig c = tiny(true).withPromptDropout(0.2);
        assertEquals(c, VptConfig.fromJson(c.toJson()));
        ComputationGraph g = graph(tiny(true), Implementation.FAST);
        g.fit(new MultiDataSet(new INDArray[]{images(2)}, VptModel.labels(labels(2))));
        File file = new File(dir, "vpt.zip");
        ModelSerializer.writeModel(g, file, true);
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(file, true);
        assertEquals(0.0, maxAbsDiff(g.params(), restored.params()), 0.0);
        assertEquals(0.0, maxAbsDiff(VptModel.logits(g, images(2)), VptModel.logits(restored, images(2))), 0.0);
        assertEquals(g.getConfiguration().toJson(), restored.getConfiguration().toJson());
        assertEquals(g.getConfiguration(), ComputationGraphConfiguration.fromJson(g.getConfiguration().toJson()));
    }

    @Test
    void promptsStartUniformInVptsRangeAndFollowTheSeed() {
        VptConfig c = tiny(true);
        double bound = Math.sqrt(6.0 / (2 * 4 * 4 + 8));
        assertEquals(bound, VisualPromptTokens.vptInitBound(2, 4, 8), 0.0);
        ComputationGraph a = new ComputationGraph(VptModel.configuration(c, globals(new NoOp())));
        a.init();
        ComputationGraph b = new ComputationGraph(VptModel.configuration(c, globals(new NoOp())));
        b.init();
        ComputationGraph other = new ComputationGraph(VptModel.configuration(c, globals(new NoOp()).seed(8)));
        other.init();
        for (int i = 0; i < 3; i++) {
            INDArray prompts = VptModel.promptTokens(a, i);
            assertTrue(prompts.amaxNumber().doubleValue() <= bound && prompts.amaxNumber().doubleValue() > bound / 2);
            assertEquals(0.0, maxAbsDiff(prompts, VptModel.promptTokens(b, i)), 0.0);
            assertNotEquals(0.0, maxAbsDiff(prompts, VptModel.promptTokens(other, i)));
        }
        assertNotEquals(0.0, maxAbsDiff(VptModel.promptTokens(a, 0), VptModel.promptTokens(a, 1)));
    }

    @Test
    void badConfigurationsFailWithTheFieldExpectedAndActualValue() {
        VptConfig ok = tiny(true);
        Map<UnaryOperator<VptConfig>, String> cases = Map.of(
                c -> c.withNumPromptTokens(0), "VptConfig: numPromptTokens must be >= 1, got 0",
                c -> c.withNumClasses(0), "VptConfig: numClasses must be > 0, got 0",
                c -> c.withPromptDropout(1.0), "VptConfig: promptDropout must be in [0, 1), got 1.0",
                c -> c.withBackbone(null), "VptConfig: backbone must be a ViT configuration, got null",
                c -> c.withBackbone(c.getBackbone().withClassToken(false).withPooling(TokenPooling.MEAN)),
                "VptConfig: backbone.classToken must be true",
                c -> c.withBackbone(c.getBackbone().withNumHeads(3)),
                "numHeads must be a divisor of hiddenSize 8, got 3");
        for (Map.Entry<UnaryOperator<VptConfig>, String> e : cases.entrySet()) {
            VptConfig bad = e.getKey().apply(ok);
            IllegalArgumentException error = assertThrows(IllegalArgumentException.class, bad::validated);
            assertTrue(error.getMessage().contains(e.getValue()), error.getMessage());
            assertTrue(!error.getMessage().contains("\n"), "one line: " + error.getMessage());
            assertThrows(IllegalArgumentException.class, () -> VptModel.configuration(bad));
        }
        IllegalArgumentException json = assertThrows(IllegalArgumentException.class,
                () -> VptConfig.fromJson("{\"numClasses\": \"many\"}"));
        assertTrue(json.getMessage().startsWith("Not a VptConfig JSON"), json.getMessage());
        IllegalArgumentException layer = assertThrows(IllegalArgumentException.class,
                () -> new VisualPromptTokens.Builder().hiddenSize(8).numPrompts(0).build());
        assertTrue(layer.getMessage().contains("numPrompts must be > 0, got 0"), layer.getMessage());
    }
}
