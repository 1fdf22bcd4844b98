package org.sa2vp.model;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
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
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Central differences in float64 on a tiny SA2VP-Swin whose interaction runs on a 4×4 map (stage 0 of an 8×8 image,
 * patch 2, window 2 with a shift on odd blocks; image→prompt at block 0, prompt→image at blocks 1 and 2, 3×3 clipped
 * windows, γ = 0.5): every trainable value (prompt map, adapters, head) gets its exact gradient through both streams
 * of the stacked frozen blocks, the interaction vertices and the shared head; every frozen value of the hand-written
 * runtimes gets none (the prompt map runs on SameDiff, which also differentiates its frozen norm copy; its
 * FrozenUpdater discards that, which {@code Sa2vpSwinParityTest}'s training step checks).
 */
@ExtendWith(Float64.class)
class Sa2vpSwinGradientCheckTest {

    private static final SwinTransformerConfig TINY = SwinTransformerConfig.builder().inChannels(1).imageHeight(8)
            .imageWidth(8).patchSize(2).embedDim(4).depths(List.of(3, 2)).numHeads(List.of(2, 2)).windowSize(2)
            .build().validated();

    @Test
    void trainableValuesGetExactGradientsAndFrozenOnesNone() {
        check();
    }

    private static void check() {
        Sa2vpSwinConfig config = Sa2vpSwinConfig.builder().backbone(TINY).numClasses(3).interactionStage(0)
                .imageToPromptBlocks(List.of(0)).promptRank(2).adapterSize(3).attentionDropout(0).adapterDropout(0)
                .build().validated();
        Nd4j.getRandom().setSeed(11);
        ComputationGraph g = new ComputationGraph(Sa2vpSwinModel.configuration(config,
                new NeuralNetConfiguration.Builder().seed(11).dataType(DataType.DOUBLE).updater(new NoOp()),
                Implementation.FAST));
        g.init();
        // Non-trivial LayerNorms and biases everywhere (init leaves them 1 and 0).
        g.params().addi(Nd4j.randn(DataType.DOUBLE, g.params().shape()).muli(0.05));
        Set<String> promptMap = Set.of(SwinPromptMap.PROMPT_FACTORS, SwinPromptMap.PROMPT_PROJ_W,
                SwinPromptMap.PROMPT_PROJ_B).stream().map(p -> Sa2vpSwinModel.PROMPT_MAP + "_" + p)
                .collect(Collectors.toSet());
        Set<String> trainable = new HashSet<>();
        for (String p : g.paramTable().keySet()) {
            if (promptMap.contains(p) || p.contains(".cross_attn.") && p.contains(".ffn_")
                    || p.startsWith(Sa2vpSwinModel.HEAD + "_")) {
                trainable.add(p);
            }
        }
        assertEquals(3 + 6 * 3 + 2, trainable.size(), trainable.toString());
        // Trainable values well away from their small init, so their gradients are far above the differences' noise.
        for (String p : trainable) {
            INDArray value = g.paramTable().get(p);
            value.assign(Nd4j.randn(DataType.DOUBLE, value.shape()).muli(0.3).addi(p.endsWith("normGamma") ? 1 : 0));
        }
        INDArray images = Nd4j.randn(DataType.DOUBLE, 2, 1, 8, 8);
        INDArray labels = TestArrays.oneHot(DataType.DOUBLE, 3, 1, 2);
        // SameDiff computes the prompt map's frozen norm copy's gradient too; FrozenUpdater discards it
        TestGraphs.assertExactGradients(g, images, config.labels(labels), trainable,
                p -> !p.startsWith(Sa2vpSwinModel.PROMPT_MAP + "_"));
    }
}
