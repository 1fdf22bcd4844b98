package org.sa2vp.backbone.swin;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.sa2vp.Float64;
import org.sa2vp.TestArrays;
import org.sa2vp.backbone.Backbone;
import org.sa2vp.backbone.BackboneLayer;
import org.sa2vp.layers.ClassifierLoss;
import org.sa2vp.layers.Implementation;
import org.sa2vp.layers.runtime.BlockWeights;
import org.sa2vp.layers.runtime.DropoutKernel;
import org.sa2vp.layers.runtime.ShiftedWindows;

import java.io.File;
import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Swin layers in double precision, on a tiny Swin (10×14 images of 2 channels, patch 2, embed dim 4, depths
 * [2, 2], heads [1, 2], window 3, MLP ratio 2): stage 0 is a 5×7 map padded to 6×9 and shifted along both axes,
 * the patch merging meets an odd map on both axes, stage 1 is a 3×4 map padded to 3×6 that shifts along the width
 * only. DL4J gradient checks of every layer's parameters (each layer alone) and of a frozen Swin passing exact
 * gradients to a trainable layer below it, the SameDiff reference against the FAST runtime, freezing under Adam +
 * weight decay, serialisation, drop path, and the named variants' exact sizes.
 */
@ExtendWith(Float64.class)
class SwinLayersTest {

    private static final int CLASSES = 3;
    private static final String ADAPTER = "adapt";
    private static SwinTransformerConfig tiny() {
        return SwinTransformerConfig.builder().inChannels(2).imageHeight(10).imageWidth(14).patchSize(2).embedDim(4)
                .depths(List.of(2, 2)).numHeads(List.of(1, 2)).windowSize(3).mlpRatio(2.0).numClasses(CLASSES)
                .build().validated();
    }

    private static NeuralNetConfiguration.Builder globals(IUpdater updater) {
        return new NeuralNetConfiguration.Builder().seed(7).dataType(DataType.DOUBLE).updater(updater);
    }

    /** A trainable 1×1 convolution, the Swin feature extractor, a dense head and a softmax loss. */
    private static ComputationGraph graph(SwinTransformerConfig c, IUpdater updater, boolean frozen,
                                          Implementation implementation) {
        return graph(c, globals(updater), frozen, implementation);
    }

    private static ComputationGraph graph(SwinTransformerConfig c, NeuralNetConfiguration.Builder globals,
                                          boolean frozen, Implementation implementation) {
        ComputationGraphConfiguration.GraphBuilder b = globals.graphBuilder().addInputs("raw")
                .setInputTypes(InputType.convolutional(c.getImageHeight(), c.getImageWidth(), c.getInChannels()))
                .addLayer(ADAPTER, new ConvolutionLayer.Builder(1, 1).nIn(c.getInChannels()).nOut(c.getInChannels())
                        .activation(Activation.TANH).build(), "raw");
        String features = SwinTransformer.addFeatureExtractor(b, c, ADAPTER, frozen, implementation);
        b.addLayer(SwinTransformer.HEAD, new DenseLayer.Builder().nIn(c.featureWidth()).nOut(CLASSES)
                .activation(Activation.IDENTITY).build(), features);
        b.addLayer(SwinTransformer.OUTPUT, ClassifierLoss.softmax(CLASSES, new LossMCXENT()), SwinTransformer.HEAD);
        ComputationGraph g = new ComputationGraph(b.setOutputs(SwinTransformer.OUTPUT).build());
        g.init();
        return g;
    }

    /** Non-trivial LayerNorm, bias and bias-table values, so that every parameter's gradient is exercised. */
    private static ComputationGraph perturbed(ComputationGraph g) {
        Nd4j.getRandom().setSeed(11);
        for (Map.Entry<String, INDArray> e : g.paramTable().entrySet()) {
            double scale = e.getKey().endsWith(SwinBlock.RELATIVE_POSITION_BIAS) ? 0.5 : 0.1;
            e.getValue().addi(Nd4j.randn(DataType.DOUBLE, e.getValue().shape()).muli(scale));
        }
        return g;
    }

    private static INDArray images(SwinTransformerConfig c, long batch) {
        Nd4j.getRandom().setSeed(3);
        return Nd4j.randn(DataType.DOUBLE, batch, c.getInChannels(), c.getImageHeight(), c.getImageWidth());
    }

    private static INDArray labels(long batch) {
        INDArray y = Nd4j.zeros(DataType.DOUBLE, batch, CLASSES);
        for (int i = 0; i < batch; i++) {
            y.putScalar(i, i % CLASSES, 1.0);
        }
        return y;
    }

    @Test
    void theTinySwinHasTheMapsItIsMeantToTest() {
        SwinTransformerConfig c = tiny();
        assertEquals(List.of(new Backbone.Stage(5, 7, 4, 2, 1, false),
                new Backbone.Stage(3, 4, 8, 2, 2, false)), c.stages());
        SwinBlock shifted0 = block(c, 0, 1), shifted1 = block(c, 1, 1);
        assertEquals(List.of(6, 9, 1, 1), List.of(shifted0.windows().paddedHeight(), shifted0.windows().paddedWidth(),
                shifted0.windows().shiftHeight(), shifted0.windows().shiftWidth()));
        assertEquals(List.of(3, 6, 0, 1), List.of(shifted1.windows().paddedHeight(), shifted1.windows().paddedWidth(),
                shifted1.windows().shiftHeight(), shifted1.windows().shiftWidth()));
    }

    /**
     * The window layout's fixed facts as torchvision has them: the relative position index of a 2×2 window, the shift
     * dropped along an axis whose padded map is one window, the region mask of a shifted 4×4 map, and merging as the
     * exact inverse of partitioning (padding slots zero).
     */
    @Test
    void theWindowLayoutFollowsTorchvision() {
        assertEquals(List.of(4, 3, 1, 0, 5, 4, 2, 1, 7, 6, 4, 3, 8, 7, 5, 4), java.util.Arrays.stream(
                ShiftedWindows.relativePositionIndex(2)).boxed().toList());
        ShiftedWindows wide = ShiftedWindows.of(3, 5, 4, 2);
        assertEquals(List.of(4, 8, 0, 2, 2), List.of(wide.paddedHeight(), wide.paddedWidth(), wide.shiftHeight(),
                wide.shiftWidth(), wide.windows()));
        ShiftedWindows square = ShiftedWindows.of(4, 4, 2, 1);
        INDArray mask = square.shiftMask(DataType.DOUBLE);
        assertEquals(0.0, mask.slice(0).amaxNumber().doubleValue(), 0.0, "the top-left window is one region");
        assertEquals(Nd4j.eye(4).sub(1).mul(100), mask.slice(3), "every token of the bottom-right window is alone");
        assertEquals(Nd4j.createFromArray(new double[][]{{0, -100, 0, -100}, {-100, 0, -100, 0}, {0, -100, 0, -100},
                {-100, 0, -100, 0}}), mask.slice(1), "the top-right window splits into two columns");
        Nd4j.getRandom().setSeed(1);
        INDArray tokens = Nd4j.randn(DataType.DOUBLE, 2 * 15, 3);
        INDArray windowed = wide.partition(tokens, 2);
        assertEquals(List.of(2L * 2 * 16, 3L), List.of(windowed.size(0), windowed.size(1)));
        assertEquals(tokens, wide.merge(windowed, 2));
        assertEquals(2 * (2 * 16 - 15) * 3, windowed.eq(0.0).castTo(DataType.INT).sumNumber().intValue(),
                "padding slots are zero");
    }

    private static SwinBlock block(SwinTransformerConfig c, int stage, int index) {
        return (SwinBlock) ((LayerVertex) SwinTransformer.configuration(c).getVertices()
                .get(SwinTransformer.block(stage, index))).getLayerConf().getLayer();
    }

    /** The layers the parameter gradient checks run on, each alone between its input and a trainable head. */
    static Stream<Arguments> layers() {
        return Stream.of(
                Arguments.of("patch embedding", InputType.convolutional(10, 14, 2), 4, new SwinPatchEmbedding.Builder()
                        .inChannels(2).imageSize(10, 14).patchSize(2).hiddenSize(4)),
                Arguments.of("block shifted along both axes of a 5x7 map padded to 6x9", tokens(35, 4), 4,
                        new SwinBlock.Builder().hiddenSize(4).numHeads(2).mlpSize(4).grid(5, 7).windowSize(3)
                                .shiftSize(1)),
                Arguments.of("block shifted along the width only of a 3x4 map padded to 3x6", tokens(12, 4), 4,
                        new SwinBlock.Builder().hiddenSize(4).numHeads(2).mlpSize(4).grid(3, 4).windowSize(3)
                                .shiftSize(1)),
                Arguments.of("patch merging of a 5x7 map", tokens(35, 4), 8, new PatchMerging.Builder().hiddenSize(4)
                        .grid(5, 7)));
    }

    private static InputType tokens(int count, int width) {
        return InputType.recurrent(width, count, RNNFormat.NWC);
    }

    /**
     * Every parameter of each layer, trainable, against DL4J's numerical gradients (the layer's input gradients are
     * checked by {@link #frozenSwinPassesExactGradientsToATrainableLayerBelow}, through every layer of a Swin).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("layers")
    void everyLayerPassesGradientCheck(String name, InputType input, int width, BackboneLayer.Builder<?> layer) {
        ComputationGraph g = new ComputationGraph(globals(new NoOp()).graphBuilder().addInputs("x")
                .setInputTypes(input).addLayer("layer", layer.frozen(false).build(), "x")
                .addLayer(SwinTransformer.FEATURES, new LayerNormMeanPooling.Builder().hiddenSize(width).frozen(false)
                        .build(), "layer")
                .addLayer(SwinTransformer.HEAD, new DenseLayer.Builder().nIn(width).nOut(CLASSES)
                        .activation(Activation.IDENTITY).build(), SwinTransformer.FEATURES)
                .addLayer(SwinTransformer.OUTPUT, ClassifierLoss.softmax(CLASSES, new LossMCXENT()),
                        SwinTransformer.HEAD).setOutputs(SwinTransformer.OUTPUT).build());
        g.init();
        perturbed(g);
        Nd4j.getRandom().setSeed(3);
        long[] shape = input instanceof InputType.InputTypeConvolutional cnn
                ? new long[]{2, cnn.getChannels(), cnn.getHeight(), cnn.getWidth()}
                : new long[]{2, ((InputType.InputTypeRecurrent) input).getTimeSeriesLength(),
                ((InputType.InputTypeRecurrent) input).getSize()};
        assertTrue(GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig().net(g)
                .inputs(new INDArray[]{Nd4j.randn(DataType.DOUBLE, shape)}).labels(new INDArray[]{labels(2)})
                .epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(1e-9)), name);
    }

    @Test
    void frozenSwinPassesExactGradientsToATrainableLayerBelow() {
        SwinTransformerConfig c = tiny();
        ComputationGraph g = perturbed(graph(c, new NoOp(), true, Implementation.FAST));
        Set<String> frozen = new HashSet<>();
        for (String p : g.paramTable().keySet()) {
            if (!p.startsWith(ADAPTER + "_") && !p.startsWith(SwinTransformer.HEAD + "_")) {
                frozen.add(p);
            }
        }
        assertTrue(GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig().net(g)
                .inputs(new INDArray[]{images(c, 2)}).labels(new INDArray[]{labels(2)}).epsilon(1e-6)
                .maxRelError(1e-5).minAbsoluteError(1e-9).excludeParams(frozen)));
        g.setInputs(images(c, 2));
        g.setLabels(labels(2));
        g.computeGradientAndScore();
        Map<String, INDArray> grads = g.gradient().gradientForVariable();
        for (String p : frozen) {
            assertEquals(0.0, grads.get(p).amaxNumber().doubleValue(), 0.0, "frozen " + p + " got a gradient");
        }
        assertTrue(grads.get(ADAPTER + "_W").amaxNumber().doubleValue() > 1e-6, "no gradient reached the layer below");
    }

    @Test
    void sameDiffReferenceMatchesFastRuntime() {
        SwinTransformerConfig c = tiny();
        ComputationGraph fast = perturbed(graph(c, new NoOp(), false, Implementation.FAST));
        ComputationGraph reference = graph(c, new NoOp(), false, Implementation.SAMEDIFF);
        reference.setParams(fast.params());
        INDArray x = images(c, 3);
        double logits = TestArrays.maxAbsDiff(fast.outputSingle(x), reference.outputSingle(x));
        assertTrue(logits < 1e-12, "outputs differ by " + logits);
        fast.setInputs(x);
        fast.setLabels(labels(3));
        fast.computeGradientAndScore();
        reference.setInputs(x);
        reference.setLabels(labels(3));
        reference.computeGradientAndScore();
        assertEquals(fast.score(), reference.score(), 1e-12);
        double gradients = TestArrays.maxAbsDiff(fast.gradient().gradient(), reference.gradient().gradient());
        System.out.printf("FAST vs SameDiff: max|Δ| outputs %.2e, score %.2e, gradients %.2e%n", logits,
                Math.abs(fast.score() - reference.score()), gradients);
        assertTrue(gradients < 1e-10, "gradients differ by " + gradients);
    }

    @Test
    void frozenBackboneStaysBitwiseUnchangedWhileTheHeadTrains() {
        SwinTransformerConfig c = tiny().withDropPathRate(0.2);
        ComputationGraph g = graph(c, globals(new Adam(1e-2)).weightDecay(0.05), true, Implementation.FAST);
        INDArray before = g.params().dup();
        INDArray headBefore = g.getParam(SwinTransformer.HEAD + "_W").dup();
        for (int i = 0; i < 3; i++) {
            g.fit(new MultiDataSet(images(c, 4), labels(4)));
        }
        ComputationGraph fresh = new ComputationGraph(g.getConfiguration().clone());
        fresh.init(before, false);
        for (String p : g.paramTable().keySet()) {
            if (p.startsWith(SwinTransformer.HEAD + "_") || p.startsWith(ADAPTER + "_")) {
                continue;
            }
            assertEquals(0.0, TestArrays.maxAbsDiff(fresh.getParam(p), g.getParam(p)), 0.0, p + " moved");
        }
        assertNotEquals(0.0, TestArrays.maxAbsDiff(headBefore, g.getParam(SwinTransformer.HEAD + "_W")));
    }

    @Test
    void graphAndConfigurationSurviveSerialisation(@TempDir File dir) throws IOException {
        SwinTransformerConfig c = tiny();
        assertEquals(c, SwinTransformerConfig.fromJson(c.toJson()));
        ComputationGraph g = perturbed(graph(c, new NoOp(), true, Implementation.FAST));
        File file = new File(dir, "swin.zip");
        ModelSerializer.writeModel(g, file, true);
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(file, true);
        INDArray x = images(c, 2);
        assertEquals(0.0, TestArrays.maxAbsDiff(g.outputSingle(x), restored.outputSingle(x)), 0.0);
        assertEquals(g.getConfiguration().toJson(), restored.getConfiguration().toJson());
        SwinBlock restoredBlock = (SwinBlock) restored.getVertex(SwinTransformer.block(1, 1)).getLayer().conf()
                .getLayer();
        assertEquals(List.of(8, 2, 16, 3, 4, 3, 1), List.of(restoredBlock.getHiddenSize(), restoredBlock.getNumHeads(),
                restoredBlock.getMlpSize(), restoredBlock.getGridHeight(), restoredBlock.getGridWidth(),
                restoredBlock.getWindowSize(), restoredBlock.getShiftSize()));
        assertTrue(restoredBlock.isFrozen());
    }

    /**
     * Drop path in training keeps or drops each sample's branch (kept ones scaled by 1/(1−p)) exactly as the
     * per-sample mask drawn from the same seed says, and does nothing in inference. The MLP branch is zeroed so the
     * output is {@code x + mask·attention(x)}.
     */
    @Test
    void dropPathDropsWholeSamplesInTrainingOnly() {
        int batch = 16, d = 4;
        SwinBlock layer = new SwinBlock.Builder().hiddenSize(d).numHeads(2).mlpSize(8).grid(3, 4).windowSize(2)
                .shiftSize(1).dropPath(0.5).frozen(false).build();
        ComputationGraph g = new ComputationGraph(globals(new NoOp()).graphBuilder().addInputs("x")
                .setInputTypes(InputType.recurrent(d, 12, RNNFormat.NWC)).addLayer("block", layer, "x")
                .setOutputs("block").build());
        g.init();
        perturbed(g);
        g.getParam("block_" + BlockWeights.FC2_W).assign(0);
        g.getParam("block_" + BlockWeights.FC2_B).assign(0);
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.randn(DataType.DOUBLE, batch, 12, d);
        INDArray attention = g.feedForward(new INDArray[]{x}, false).get("block").sub(x);
        assertTrue(attention.amaxNumber().doubleValue() > 1e-3);

        Nd4j.getRandom().setSeed(99);
        INDArray expectedMask = DropoutKernel.perSampleMask(batch, DataType.DOUBLE, 0.5, true);
        Nd4j.getRandom().setSeed(99);
        INDArray trained = g.feedForward(new INDArray[]{x}, true).get("block");
        INDArray expected = x.add(attention.mul(expectedMask.reshape(batch, 1, 1)));
        assertEquals(0.0, TestArrays.maxAbsDiff(trained, expected), 1e-12);
        double kept = expectedMask.gt(0).castTo(DataType.INT).sumNumber().doubleValue();
        assertTrue(kept > 0 && kept < batch, kept + " of " + batch + " samples kept");
        assertEquals(Set.of(0.0, 2.0), new HashSet<>(java.util.Arrays.stream(expectedMask.toDoubleVector()).boxed()
                .toList()));

        IllegalStateException reference = assertThrows(IllegalStateException.class, () -> new ComputationGraph(
                globals(new NoOp()).graphBuilder().addInputs("x").setInputTypes(InputType.recurrent(d, 12,
                        RNNFormat.NWC)).addLayer("block", new SwinBlock.Builder().hiddenSize(d).numHeads(2)
                        .mlpSize(8).grid(3, 4).windowSize(2).dropPath(0.1).implementation(Implementation.SAMEDIFF)
                        .build(), "x").setOutputs("block").build()).init());
        assertTrue(reference.getMessage().contains("implementation SAMEDIFF cannot apply dropout"),
                reference.getMessage());
    }

    @Test
    void namedVariantsHaveTheReferenceSizes() {
        assertEquals(List.of("swin_tiny_patch4_window7_224", "swin_small_patch4_window7_224",
                "swin_base_patch4_window7_224", "swin_base_patch4_window12_384", "swin_large_patch4_window7_224",
                "swin_large_patch4_window12_384"), SwinTransformerConfig.variants());
        SwinTransformerConfig base = SwinTransformerConfig.named("swin_base_patch4_window7_224");
        assertEquals(List.of(new Backbone.Stage(56, 56, 128, 2, 4, false),
                new Backbone.Stage(28, 28, 256, 2, 8, false),
                new Backbone.Stage(14, 14, 512, 18, 16, false),
                new Backbone.Stage(7, 7, 1024, 2, 32, false)), base.stages());
        assertEquals(1024, base.featureWidth());
        // torchvision's SwinTransformer of each architecture, parameters without the 1000-class head
        assertEquals(27_519_354L, SwinTransformerConfig.named("swin_tiny_patch4_window7_224").parameterCount());
        assertEquals(48_837_258L, SwinTransformerConfig.named("swin_small_patch4_window7_224").parameterCount());
        assertEquals(86_743_224L, base.parameterCount());
        assertEquals(86_878_584L, SwinTransformerConfig.named("swin_base_patch4_window12_384").parameterCount());
        assertEquals(194_995_476L, SwinTransformerConfig.named("swin_large_patch4_window7_224").parameterCount());
        assertEquals(195_198_516L, SwinTransformerConfig.named("swin_large_patch4_window12_384").parameterCount());
        assertEquals(List.of(12, 12), List.of(SwinTransformerConfig.named("swin_large_patch4_window12_384")
                .stageGrid(3)[0], SwinTransformerConfig.named("swin_large_patch4_window12_384").stageGrid(3)[1]));
        assertEquals("embed 128, depths [2, 2, 18, 2], heads [4, 8, 16, 32], window 7, patch 4, 224x224 images, "
                + "3 channels, MLP ratio 4.0", base.describe());
        assertTrue(base.sameArchitecture(base.withName("custom").withDropPathRate(0.3).withNumClasses(10)));
        assertTrue(!base.sameArchitecture(base.withWindowSize(12)));
        assertEquals(0.3, base.withDropout(0.3).getDropPathRate());
        SwinTransformerConfig rates = tiny().withDropPathRate(0.3);
        assertEquals(List.of(0.0, 0.1, 0.2, 0.3), List.of(rates.blockDropPath(0), rates.blockDropPath(1),
                rates.blockDropPath(2), rates.blockDropPath(3)).stream().map(r -> Math.round(r * 1e12) / 1e12)
                .toList());

        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> SwinTransformerConfig.named("swin_tiny_patch4_window12_384"));
        assertTrue(unknown.getMessage().startsWith("Unknown Swin variant 'swin_tiny_patch4_window12_384'; known: ["
                + "swin_tiny_patch4_window7_224, "), unknown.getMessage());
        assertEquals("SwinTransformerConfig 'swin_base_patch4_window7_224': numHeads must be divisors of the stage "
                + "widths [128, 256, 512, 1024], got [4, 8, 16, 30]", assertThrows(IllegalArgumentException.class,
                () -> base.withNumHeads(List.of(4, 8, 16, 30)).validated()).getMessage());
        assertEquals("SwinTransformerConfig 'swin_base_patch4_window7_224': numHeads must be one entry per stage (4), "
                + "got [4, 8, 16]", assertThrows(IllegalArgumentException.class,
                () -> base.withNumHeads(List.of(4, 8, 16)).validated()).getMessage());
        assertEquals("SwinTransformerConfig 'swin_base_patch4_window7_224': imageWidth must be a positive multiple of "
                + "patchSize 4, got 225", assertThrows(IllegalArgumentException.class,
                () -> base.withImageWidth(225).validated()).getMessage());
        assertEquals("SwinTransformerConfig 'custom': depths must be one positive number of blocks per stage, got "
                + "[2, 0]", assertThrows(IllegalArgumentException.class,
                () -> tiny().withName("custom").withDepths(List.of(2, 0)).validated()).getMessage());
    }

    @Test
    void swinTinyBuildsWithTheCountedParameters() {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        try {
            SwinTransformerConfig t = SwinTransformerConfig.named("swin_tiny_patch4_window7_224");
            ComputationGraph g = SwinTransformer.create(t);
            assertEquals(t.parameterCount(), g.numParams());
        } finally {
            Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        }
    }
}
