package org.sa2vp.baseline;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.extension.ExtendWith;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.sa2vp.Float64;
import org.sa2vp.TestArrays;
import org.sa2vp.TestGraphs;
import org.sa2vp.backbone.swin.SwinTransformerConfig;
import org.sa2vp.layers.Implementation;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Central differences in float64 on a tiny VPT-Swin (8×8 grey images, patch 2: a 4×4 map in 2×2 windows shifted on
 * odd blocks, then a 2×2 map; depths 2-1, P = 2): every prompt value and the head get their exact gradient through the
 * prompted window attention, the prompt averaging over windows and the patch merging's repeated prompts, on both
 * runtimes; the frozen backbone values get none.
 */
@ExtendWith(Float64.class)
class VptSwinGradientCheckTest {

    private static final SwinTransformerConfig TINY = SwinTransformerConfig.builder().inChannels(1).imageHeight(8)
            .imageWidth(8).patchSize(2).embedDim(4).depths(List.of(2, 1)).numHeads(List.of(2, 2)).windowSize(2)
            .build().validated();

    @ParameterizedTest(name = "deep {0}, {1}")
    @CsvSource({"true, FAST", "false, FAST", "true, SAMEDIFF"})
    void promptsAndHeadGetExactGradientsAndFrozenValuesNone(boolean deep, Implementation implementation) {
        check(deep, implementation);
    }

    private static void check(boolean deep, Implementation implementation) {
        VptSwinConfig config = VptSwinConfig.builder().backbone(TINY).numClasses(3).numPromptTokens(2).deep(deep)
                .build().validated();
        Nd4j.getRandom().setSeed(5);
        ComputationGraph g = new ComputationGraph(VptSwinModel.configuration(config,
                new NeuralNetConfiguration.Builder().seed(5).dataType(DataType.DOUBLE).updater(new NoOp()),
                implementation));
        g.init();
        // Non-trivial LayerNorms and biases everywhere (init leaves them 1 and 0), prompts well away from zero.
        g.params().addi(Nd4j.randn(DataType.DOUBLE, g.params().shape()).muli(0.05));
        Set<String> trainable = new HashSet<>();
        for (String p : g.paramTable().keySet()) {
            if (p.startsWith("prompts.") || p.startsWith(VptSwinModel.HEAD + "_")) {
                trainable.add(p);
                g.paramTable().get(p).assign(Nd4j.randn(DataType.DOUBLE, g.paramTable().get(p).shape()).muli(0.5));
            }
        }
        assertEquals(config.numPromptSets() + 2, trainable.size(), trainable.toString());
        INDArray images = Nd4j.randn(DataType.DOUBLE, 2, 1, 8, 8);
        INDArray labels = TestArrays.oneHot(DataType.DOUBLE, 3, 1, 2);
        // SameDiff differentiates the frozen layers too (their FrozenUpdater discards it): exact zeros on FAST only
        TestGraphs.assertExactGradients(g, images, new INDArray[]{labels}, trainable,
                p -> implementation == Implementation.FAST);
    }
}
