package org.sa2vp.backbone.weights.keras;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.sa2vp.Float64;
import org.sa2vp.layers.Implementation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Double-precision checks of the DL4J layers that imported Keras ViT layers become, all in one chain
 * {@code TokenDense → ClassTokenLayer → PositionEmbeddingLayer → TokenLayerNorm → MultiHeadSelfAttention →
 * TokenDense(exact GELU) → TokenDense(no bias) → TokenSelectLayer → OutputLayer}: DL4J's {@link GradientCheckUtil}
 * on every parameter (the first TokenDense's weight gradient also checks every later layer's input gradient), with
 * attention dropout active under a fixed seed; and the SAMEDIFF reference runtimes against the FAST ones.
 */
@ExtendWith(Float64.class)
class ImportedTokenLayersTest {

    private static final int TOKENS = 3;
    private static final int WIDTH = 4;
    private static final int CLASSES = 3;
    private static final long SEED = 42;

    /** The chain with random parameters (the same for both implementations): heads 2, keyDim 3, valueDim 2. */
    private static ComputationGraph chain(Implementation implementation, double attentionDropout) {
        TokenSelectLayer select = new TokenSelectLayer(0);
        select.setImplementation(implementation);
        ComputationGraph graph = new ComputationGraph(new NeuralNetConfiguration.Builder()
                .dataType(DataType.DOUBLE).seed(SEED).updater(new NoOp()).graphBuilder()
                .addInputs("in")
                .setInputTypes(InputType.recurrent(WIDTH, TOKENS, RNNFormat.NWC))
                .addLayer("embed", new TokenDense.Builder().outputSize(WIDTH).implementation(implementation).build(),
                        "in")
                .addLayer("cls", new ClassTokenLayer.Builder().implementation(implementation).build(), "embed")
                .addLayer("pos", new PositionEmbeddingLayer.Builder().implementation(implementation).build(), "cls")
                .addLayer("norm", new TokenLayerNorm.Builder().epsilon(1e-6).implementation(implementation).build(),
                        "pos")
                .addLayer("attention", new MultiHeadSelfAttention.Builder().numHeads(2).keyDim(3).valueDim(2)
                        .outputSize(5).attentionDropout(attentionDropout).implementation(implementation).build(), "norm")
                .addLayer("mlp", new TokenDense.Builder().outputSize(6).activation(new ExactGeluActivation())
                        .implementation(implementation).build(), "attention")
                .addLayer("proj", new TokenDense.Builder().outputSize(WIDTH).hasBias(false)
                        .implementation(implementation).build(), "mlp")
                .addLayer("select", select, "proj")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MSE).activation(Activation.IDENTITY)
                        .nIn(WIDTH).nOut(CLASSES).build(), "select")
                .setOutputs("out").build());
        graph.init();
        Nd4j.getRandom().setSeed(SEED);
        graph.params().assign(Nd4j.randn(DataType.DOUBLE, graph.params().shape()).muli(0.5));
        graph.getParam("norm_gamma").addi(1.0);
        return graph;
    }

    private static MultiDataSet data() {
        Nd4j.getRandom().setSeed(SEED + 1);
        return new MultiDataSet(Nd4j.randn(DataType.DOUBLE, 2, TOKENS, WIDTH),
                Nd4j.randn(DataType.DOUBLE, 2, CLASSES));
    }

    @Test
    void gradientsMatchFiniteDifferencesWithAttentionDropout() {
        ComputationGraph graph = chain(Implementation.FAST, 0.2);
        MultiDataSet data = data();

        // dropout is really applied in training and only there
        Nd4j.getRandom().setSeed(1);
        double trainingScore = graph.score(data, true);
        Nd4j.getRandom().setSeed(2);
        assertNotEquals(trainingScore, graph.score(data, true), "attention dropout must change the training forward");
        assertEquals(graph.score(data, false), graph.score(data, false), 0.0);

        assertEquals(20 + 4 + 16 + 8 + 105 + 36 + 24 + 15, graph.params().length(), "parameters of the chain");
        boolean passed = GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig().net(graph)
                .inputs(data.getFeatures()).labels(data.getLabels()).epsilon(1e-6).maxRelError(1e-5)
                .minAbsoluteError(1e-9).exitOnFirstError(false)
                .callEachIter(g -> Nd4j.getRandom().setSeed(7)));
        assertTrue(passed, "gradient check of the imported-layer chain failed (see the log)");
    }

    @Test
    void sameDiffReferenceMatchesFastRuntime() {
        ComputationGraph fast = chain(Implementation.FAST, 0.0);
        ComputationGraph reference = chain(Implementation.SAMEDIFF, 0.0);
        reference.setParams(fast.params());
        MultiDataSet data = data();

        INDArray expected = fast.outputSingle(data.getFeatures());
        INDArray actual = reference.outputSingle(data.getFeatures());
        assertTrue(expected.equalsWithEps(actual, 1e-10), "outputs: FAST " + expected + " vs SAMEDIFF " + actual);

        fast.setInputs(data.getFeatures());
        fast.setLabels(data.getLabels());
        fast.computeGradientAndScore();
        reference.setInputs(data.getFeatures());
        reference.setLabels(data.getLabels());
        reference.computeGradientAndScore();
        INDArray fastGradient = fast.getGradientsViewArray();
        INDArray referenceGradient = reference.getGradientsViewArray();
        double scale = fastGradient.amaxNumber().doubleValue();
        double difference = fastGradient.sub(referenceGradient).amaxNumber().doubleValue();
        assertTrue(difference <= 1e-9 * scale, "gradients differ by " + difference + " (scale " + scale + ")");
    }

    @Test
    void exactGeluIsTheErfForm() {
        INDArray x = Nd4j.createFromArray(-2.0, -0.5, 0.0, 1.0, 3.0);
        // x·Φ(x) with Φ from erf (Python math.erf)
        INDArray expected = Nd4j.createFromArray(-0.04550026389635842, -0.15426876936299344, 0.0,
                0.8413447460685429, 2.99595030590511);
        INDArray actual = new ExactGeluActivation().getActivation(x.dup(), false);
        double error = expected.sub(actual).amaxNumber().doubleValue();
        assertTrue(error < 1e-12, "exact GELU off by " + error + ": " + actual);
    }
}
