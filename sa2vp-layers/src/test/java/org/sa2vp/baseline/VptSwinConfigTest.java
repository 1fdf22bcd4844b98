package org.sa2vp.baseline;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.backbone.swin.SwinBlock;
import org.sa2vp.backbone.swin.SwinTransformerConfig;
import org.sa2vp.method.TuningMethods;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * VPT-Swin's configuration: the registered defaults (VPT's: deep, 10 tokens, no stochastic depth in the frozen
 * backbone), the prompt sets and trainable count of a Swin-T, the graph's prompt vertices, and one-line errors.
 */
class VptSwinConfigTest {

    private static final SwinTransformerConfig TINY = SwinTransformerConfig.builder().inChannels(3).imageHeight(16)
            .imageWidth(16).patchSize(2).embedDim(4).depths(List.of(2, 3)).numHeads(List.of(1, 2)).windowSize(4)
            .dropPathRate(0.2).build().validated();

    @Test
    void theRegisteredVariantsAreVptsDefaultsOnTheSwin() {
        VptSwinConfig deep = assertInstanceOf(VptSwinConfig.class, TuningMethods.create("vpt-deep", TINY, 7));
        assertEquals(VptSwinConfig.of(TINY, 7), deep);
        assertEquals(10, deep.getNumPromptTokens());
        assertEquals(0.0, deep.getBackbone().getDropPathRate());
        assertEquals(5, deep.numPromptSets());
        // deep: P·(2·4 + 3·8) prompt values and the head (8 + 1)·7
        assertEquals(10L * (2 * 4 + 3 * 8) + 9 * 7, deep.trainableParameters());
        VptSwinConfig shallow = assertInstanceOf(VptSwinConfig.class, TuningMethods.create("vpt-shallow", TINY, 7));
        assertEquals(1, shallow.numPromptSets());
        assertEquals(10L * 4 + 9 * 7, shallow.trainableParameters());
        assertEquals("vpt-shallow", shallow.methodName());

        // Swin-T (depths 2-2-6-2, widths 96-192-384-768): 10·(2·96 + 2·192 + 6·384 + 2·768) + 769·100
        VptSwinConfig swinT = VptSwinConfig.of(SwinTransformerConfig.named("swin_tiny_patch4_window7_224"), 100);
        assertEquals(10L * (2 * 96 + 2 * 192 + 6 * 384 + 2 * 768) + 769 * 100, swinT.trainableParameters());
    }

    @Test
    void theGraphHasOnePromptVertexPerSetWithItsStagesWidth() {
        VptSwinConfig config = VptSwinConfig.of(TINY, 3).withNumPromptTokens(2);
        ComputationGraph graph = new ComputationGraph(VptSwinModel.configuration(config,
                new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.FLOAT)));
        graph.init();
        long[][] shapes = {{2, 4}, {2, 4}, {2, 8}, {2, 8}, {2, 8}};
        for (int k = 0; k < shapes.length; k++) {
            assertEquals(List.of(shapes[k][0], shapes[k][1]), List.of(VptModel.promptTokens(graph, k).size(0),
                    VptModel.promptTokens(graph, k).size(1)), "prompts." + k);
            // VPT's range √(6 / (3·p² + C₀)) for every set
            double bound = Math.sqrt(6.0 / (3 * 4 + 4));
            assertTrue(VptModel.promptTokens(graph, k).amaxNumber().doubleValue() <= bound, "prompts." + k);
        }
        assertTrue(graph.getVertex(VptModel.prompts(5)) == null, "one set per block");
        assertEquals(2L * 3, graph.outputSingle(Nd4j.rand(DataType.FLOAT, 2, 3, 16, 16)).length());
    }

    @Test
    void badConfigurationsAndInputsFailInOneLine() {
        assertEquals("VptSwinConfig: numClasses must be > 0, got 0", assertThrows(IllegalArgumentException.class,
                () -> VptSwinConfig.of(TINY, 0)).getMessage());
        assertEquals("VptSwinConfig: numPromptTokens must be >= 1, got 0", assertThrows(IllegalArgumentException.class,
                () -> VptSwinConfig.of(TINY, 3).withNumPromptTokens(0).validated()).getMessage());
        assertEquals("VptSwinConfig: promptDropout must be in [0, 1), got 1.0", assertThrows(
                IllegalArgumentException.class, () -> VptSwinConfig.of(TINY, 3).withPromptDropout(1).validated())
                .getMessage());
        SwinBlock block = new SwinBlock.Builder().hiddenSize(4).numHeads(1).mlpSize(8).grid(8, 8).windowSize(4)
                .promptTokens(3).build();
        assertEquals(block.describe() + ": input has shape [2, 64, 4], expected [batch, 67, 4] (3 prompts and a 8x8 "
                + "map)", assertThrows(IllegalArgumentException.class,
                () -> block.validateInput(Nd4j.zeros(DataType.FLOAT, 2, 64, 4))).getMessage());
        assertEquals(block.describe() + ": promptTokens must be >= 0, got -1", assertThrows(
                IllegalArgumentException.class, () -> new SwinBlock.Builder().hiddenSize(4).numHeads(1).mlpSize(8)
                        .grid(8, 8).windowSize(4).promptTokens(-1).build()).getMessage());
    }
}
