package org.sa2vp.backbone.vit;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.NoOp;
import org.sa2vp.Float64;
import org.sa2vp.TestArrays;
import org.sa2vp.layers.Implementation;

import java.io.File;
import java.io.IOException;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ViT layers in double precision: DL4J gradient checks (all parameters when trained; through a frozen ViT to a
 * trainable layer below it, which {@code FrozenLayer} would cut off), the SameDiff reference runtime against the
 * fast one, freezing under Adam + weight decay, serialisation, and the named variants' exact sizes.
 */
@ExtendWith(Float64.class)
class VisionTransformerLayersTest {

    /** 8×8 images, 2 channels, patch 4 (2×2 grid), width 8, 2 heads, MLP 12, 2 blocks, 3 classes. */
    private static VisionTransformerConfig tiny(boolean classToken, boolean qkvBias) {
        return VisionTransformerConfig.builder().inChannels(2).imageHeight(8).imageWidth(8).patchSize(4)
                .hiddenSize(8).depth(2).numHeads(2).mlpSize(12).classToken(classToken).qkvBias(qkvBias)
                .pooling(classToken ? TokenPooling.CLASS_TOKEN : TokenPooling.MEAN).numClasses(3).build();
    }

    private static NeuralNetConfiguration.Builder globals(org.nd4j.linalg.learning.config.IUpdater updater) {
        return new NeuralNetConfiguration.Builder().seed(7).dataType(DataType.DOUBLE).updater(updater);
    }

    private static ComputationGraph graph(VisionTransformerConfig c, boolean frozen, Implementation impl) {
        ComputationGraph g = new ComputationGraph(VisionTransformer.configuration(c, globals(new NoOp()), frozen,
                impl));
        g.init();
        // Non-trivial LayerNorm / bias values so that every parameter's gradient is exercised.
        for (Map.Entry<String, INDArray> e : g.paramTable().entrySet()) {
            e.getValue().addi(Nd4j.randn(DataType.DOUBLE, e.getValue().shape()).muli(0.1));
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

    @ParameterizedTest(name = "classToken={0}")
    @ValueSource(booleans = {true, false})
    void trainableViTPassesGradientCheck(boolean classToken) {
        ComputationGraph g = graph(tiny(classToken, true), false, Implementation.FAST);
        assertTrue(GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig().net(g)
                .inputs(new INDArray[]{images(2)}).labels(new INDArray[]{labels(2)}).epsilon(1e-6)
                .maxRelError(1e-5).minAbsoluteError(1e-9)));
    }

    @Test
    void frozenViTPassesExactGradientsToATrainableLayerBelow() {
        VisionTransformerConfig c = tiny(true, false);
        ComputationGraphConfiguration.GraphBuilder b = globals(new NoOp()).graphBuilder().addInputs("raw")
                .setInputTypes(InputType.convolutional(8, 8, 2))
                .addLayer("adapt", new ConvolutionLayer.Builder(1, 1).nIn(2).nOut(2).activation(Activation.TANH)
                        .build(), "raw");
        ComputationGraphConfiguration vit = VisionTransformer.configuration(c, globals(new NoOp()), true,
                Implementation.FAST);
        b.addLayer(VisionTransformer.EMBEDDING, vit.getVertices().get(VisionTransformer.EMBEDDING) instanceof
                org.deeplearning4j.nn.conf.graph.LayerVertex lv ? lv.getLayerConf().getLayer() : null, "adapt");
        String previous = VisionTransformer.EMBEDDING;
        for (String name : new String[]{VisionTransformer.block(0), VisionTransformer.block(1),
                VisionTransformer.FEATURES, VisionTransformer.HEAD, VisionTransformer.OUTPUT}) {
            b.addLayer(name, ((org.deeplearning4j.nn.conf.graph.LayerVertex) vit.getVertices().get(name))
                    .getLayerConf().getLayer(), previous);
            previous = name;
        }
        ComputationGraph g = new ComputationGraph(b.setOutputs(VisionTransformer.OUTPUT).build());
        g.init();
        for (INDArray p : g.paramTable().values()) {
            p.addi(Nd4j.randn(DataType.DOUBLE, p.shape()).muli(0.1));
        }
        Set<String> frozen = new HashSet<>();
        for (String p : g.paramTable().keySet()) {
            if (!p.startsWith("adapt_") && !p.startsWith(VisionTransformer.HEAD + "_")) {
                frozen.add(p);
            }
        }
        assertTrue(GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig().net(g)
                .inputs(new INDArray[]{images(2)}).labels(new INDArray[]{labels(2)}).epsilon(1e-6)
                .maxRelError(1e-5).minAbsoluteError(1e-9).excludeParams(frozen)));
        g.setInputs(images(2));
        g.setLabels(labels(2));
        g.computeGradientAndScore();
        Map<String, INDArray> grads = g.gradient().gradientForVariable();
        for (String p : frozen) {
            assertEquals(0.0, grads.get(p).amaxNumber().doubleValue(), 0.0, "frozen " + p + " got a gradient");
        }
        assertTrue(grads.get("adapt_W").amaxNumber().doubleValue() > 1e-6, "no gradient reached the layer below");
    }

    @Test
    void sameDiffReferenceMatchesFastRuntime() {
        for (boolean classToken : new boolean[]{true, false}) {
            VisionTransformerConfig c = tiny(classToken, true);
            ComputationGraph fast = graph(c, false, Implementation.FAST);
            ComputationGraph reference = new ComputationGraph(VisionTransformer.configuration(c,
                    globals(new NoOp()), false, Implementation.SAMEDIFF));
            reference.init();
            reference.setParams(fast.params());
            INDArray x = images(3);
            assertTrue(TestArrays.maxAbsDiff(VisionTransformer.logits(fast, x), VisionTransformer.logits(reference, x))
                    < 1e-12, "logits differ");
            fast.setInputs(x);
            fast.setLabels(labels(3));
            fast.computeGradientAndScore();
            reference.setInputs(x);
            reference.setLabels(labels(3));
            reference.computeGradientAndScore();
            assertEquals(fast.score(), reference.score(), 1e-12);
            double gradientDiff = TestArrays.maxAbsDiff(fast.gradient().gradient(), reference.gradient().gradient());
            assertTrue(gradientDiff < 1e-10, "gradients differ by " + gradientDiff);
        }
    }

    @Test
    void frozenBackboneStaysBitwiseUnchangedWhileTheHeadTrains() {
        VisionTransformerConfig c = tiny(true, true).withDropout(0.1);
        ComputationGraph g = new ComputationGraph(VisionTransformer.configuration(c,
                globals(new Adam(1e-2)).weightDecay(0.05), true));
        g.init();
        INDArray before = g.params().dup();
        Map<String, INDArray> headBefore = Map.of("W", g.getParam("head_W").dup());
        for (int i = 0; i < 3; i++) {
            g.fit(new MultiDataSet(images(4), labels(4)));
        }
        ComputationGraph fresh = new ComputationGraph(g.getConfiguration().clone());
        fresh.init(before, false);
        for (String p : g.paramTable().keySet()) {
            if (p.startsWith(VisionTransformer.HEAD + "_")) {
                continue;
            }
            assertEquals(0.0, TestArrays.maxAbsDiff(fresh.getParam(p), g.getParam(p)), 0.0, p + " moved");
        }
        assertNotEquals(0.0, TestArrays.maxAbsDiff(headBefore.get("W"), g.getParam("head_W")));
    }

    @Test
    void graphAndConfigurationSurviveSerialisation(@TempDir File dir) throws IOException {
        VisionTransformerConfig c = tiny(true, true);
        assertEquals(c, VisionTransformerConfig.fromJson(c.toJson()));
        ComputationGraph g = graph(c, true, Implementation.FAST);
        File file = new File(dir, "vit.zip");
        ModelSerializer.writeModel(g, file, true);
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(file, true);
        INDArray x = images(2);
        assertEquals(0.0, TestArrays.maxAbsDiff(VisionTransformer.logits(g, x), VisionTransformer.logits(restored, x)),
                0.0);
        assertEquals(g.getConfiguration().toJson(), restored.getConfiguration().toJson());
    }

    @Test
    void namedVariantsHaveTheReferenceSizes() {
        assertEquals(12, VisionTransformerConfig.variants().size());
        VisionTransformerConfig base = VisionTransformerConfig.named("vit_base_patch16_224");
        assertEquals(768, base.getHiddenSize());
        assertEquals(197, base.numTokens());
        assertEquals(3072, base.effectiveMlpSize());
        VisionTransformerConfig large = VisionTransformerConfig.named("vit_large_patch32_224");
        assertEquals(24, large.getDepth());
        assertEquals(50, large.numTokens());
        assertEquals(785, VisionTransformerConfig.named("vit_small_patch8_224").numTokens());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VisionTransformerConfig.named("vit_giant_patch16_224"));
        assertTrue(e.getMessage().contains("vit_base_patch16_224"));
        IllegalArgumentException heads = assertThrows(IllegalArgumentException.class,
                () -> base.withNumHeads(5).validated());
        assertTrue(heads.getMessage().contains("numHeads must be a divisor of hiddenSize 768, got 5"));
    }

    @Test
    void vitBase16HasTheAuthorsBackboneParameterCount() {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        try {
            ComputationGraph g = VisionTransformer.create(VisionTransformerConfig.named("vit_base_patch16_224"));
            // The SA2VP script's denominator: ViT-B/16 without head (docs/AUTHORS-CODE.md §1.1).
            assertEquals(85_798_656L, g.numParams());
        } finally {
            Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        }
    }
}
