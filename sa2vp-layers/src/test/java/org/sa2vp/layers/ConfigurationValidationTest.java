package org.sa2vp.layers;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad configuration fails when it is built, with a message naming the field and the expected value. */
class ConfigurationValidationTest {

    private static void fails(Executable e, String... fragments) {
        Exception ex = assertThrows(Exception.class, e);
        for (String f : fragments) {
            assertTrue(ex.getMessage().contains(f), "message '" + ex.getMessage() + "' lacks '" + f + "'");
        }
    }

    private static SpatiallyAlignedCrossAttention.Builder attention() {
        return new SpatiallyAlignedCrossAttention.Builder().hiddenSize(16).numHeads(4).queryGrid(3, 3);
    }

    @Test
    void evenWindowIsRejected() {
        fails(() -> attention().windowSize(4).build(), "windowSize", "odd", "4");
        fails(() -> new DualPathwayVertex.Builder().hiddenSize(16).numHeads(4).imageGrid(3, 3).windowSize(2)
                .build(), "windowSize", "odd");
    }

    @Test
    void headsMustDivideWidth() {
        fails(() -> attention().numHeads(5).build(), "numHeads", "divisor of hiddenSize 16", "5");
        fails(() -> new DualPathwayVertex.Builder().hiddenSize(10).numHeads(4).imageGrid(2, 2).build(), "numHeads",
                "divisor of hiddenSize 10");
    }

    @Test
    void otherFields() {
        fails(() -> attention().dropout(1.0).build(), "dropout", "[0, 1)");
        fails(() -> new DualPathwayVertex.Builder().hiddenSize(16).numHeads(4).imageGrid(2, 2).adapterDropout(-0.1)
                .build(), "adapterDropout", "[0, 1)");
        fails(() -> new SpatiallyAlignedCrossAttention.Builder().hiddenSize(16).numHeads(4).build(), "queryGrid");
        fails(() -> new PromptAdapter.Builder().hiddenSize(16).adapterSize(0).build(), "adapterSize", "> 0");
        fails(() -> new DualPathwayVertex.Builder().hiddenSize(16).numHeads(4).imageGrid(2, 2).deepPrompt(true)
                .deepPromptRank(0).build(), "deepPromptRank");
        fails(() -> new PromptFusion(0), "hiddenSize");
    }

    @Test
    void gridMustMatchTokenCountAtBuildTime() {
        SpatiallyAlignedCrossAttention ca = attention().build(); // 1 + 3x3 = 10 tokens
        fails(() -> new NeuralNetConfiguration.Builder().graphBuilder().addInputs("q", "kv")
                        .addVertex("ca", ca, "q", "kv").setOutputs("ca")
                        .setInputTypes(InputType.recurrent(16, 12, RNNFormat.NWC),
                                InputType.recurrent(16, 10, RNNFormat.NWC)).build(),
                "query", "12 tokens", "expected 10");
        fails(() -> new NeuralNetConfiguration.Builder().graphBuilder().addInputs("q", "kv")
                        .addVertex("ca", ca, "q", "kv").setOutputs("ca")
                        .setInputTypes(InputType.recurrent(8, 10, RNNFormat.NWC),
                                InputType.recurrent(8, 10, RNNFormat.NWC)).build(),
                "width 8", "hiddenSize 16");
    }

    @Test
    void runtimeInputShapeIsChecked() {
        DualPathwayVertex v = new DualPathwayVertex.Builder().hiddenSize(8).numHeads(2).imageGrid(2, 2).build();
        ComputationGraph g = Harness.of(v, DataType.FLOAT, null, 8, 10).graph;
        fails(() -> g.outputSingle(Nd4j.rand(DataType.FLOAT, 2, 9, 8)), "streams", "[2, 9, 8]",
                "expected [batch, 10, 8]");
    }

    @Test
    void weightShapesAreChecked() {
        DualPathwayVertex v = new DualPathwayVertex.Builder().hiddenSize(8).numHeads(2).imageGrid(2, 2).build();
        ComputationGraph g = Harness.of(v, DataType.FLOAT, null, 8, 10).graph;
        fails(() -> Parameters.assign(g, "v", "queryW", Nd4j.rand(DataType.FLOAT, 8, 4)), "queryW",
                "expected shape [8, 8]", "got [8, 4]");
        fails(() -> Parameters.assign(g, "v", "qkvW", Nd4j.rand(DataType.FLOAT, 8, 8)), "no parameter 'qkvW'");
    }
}
