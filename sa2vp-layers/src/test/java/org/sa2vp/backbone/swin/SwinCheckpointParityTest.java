package org.sa2vp.backbone.swin;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.TestArrays;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.weights.StateDict;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each Swin checkpoint naming loads into our Swin graph and reproduces torchvision's features and logits in float32
 * (max |Δ| ≤ 1e-4), on 40×40 images (every stage padded, shifts off in the last two stages) and 36×68 images (a
 * stage that shifts along the width only).
 */
class SwinCheckpointParityTest {

    private static final double TOLERANCE = 1e-4;

    @ParameterizedTest(name = "{0}")
    @CsvSource({"torchvision.safetensors, 10", "timm.safetensors, 10", "microsoft.npz, 10", "hf.safetensors, 10",
            "hf_swinmodel.npz, 0", "microsoft_model.pth, 10"})
    void checkpointReproducesTorchvision(String file, int classes) {
        SwinCheckpoint checkpoint = SwinCheckpoint.read(SwinFixtures.file(file),
                CheckpointOptions.defaults().withImageSize(SwinFixtures.IMAGE));
        SwinTransformerConfig c = checkpoint.config();
        assertEquals(4, c.getEmbedDim());
        assertEquals(List.of(2, 2, 2, 2), c.getDepths());
        assertEquals(List.of(1, 2, 2, 4), c.getNumHeads());
        assertEquals(4, c.getWindowSize());
        assertEquals(4, c.getPatchSize());
        assertEquals(4.0, c.getMlpRatio());
        assertEquals(classes, c.getNumClasses());
        StateDict reference = SwinFixtures.reference();
        ComputationGraph graph = checkpoint.toGraph();
        INDArray x = SwinFixtures.input();
        double features = TestArrays.maxAbsDiff(SwinTransformer.features(graph, x), reference.get("features"));
        assertTrue(features <= TOLERANCE, file + " features max|Δ| " + features);
        if (classes > 0) {
            INDArray logits = SwinTransformer.logits(graph, x);
            double abs = TestArrays.maxAbsDiff(logits, reference.get("logits"));
            double rel = TestArrays.maxRelDiff(logits, reference.get("logits"));
            System.out.printf("%s 40x40: max|Δ| features %.2e, logits %.2e (relative %.2e)%n", file, features, abs,
                    rel);
            assertTrue(abs <= TOLERANCE, file + " logits max|Δ| " + abs);
        }

        // the same weights on a 36x68 graph: nothing in a Swin checkpoint depends on the image size
        SwinTransformerConfig wide = c.withImageHeight(SwinFixtures.WIDE_HEIGHT)
                .withImageWidth(SwinFixtures.WIDE_WIDTH);
        ComputationGraph wideGraph = SwinTransformer.create(wide);
        checkpoint.assignTo(wideGraph, wide);
        double wideFeatures = TestArrays.maxAbsDiff(SwinTransformer.features(wideGraph, SwinFixtures.wideInput()),
                reference.get("features_wide"));
        System.out.printf("%s 36x68: max|Δ| features %.2e%n", file, wideFeatures);
        assertTrue(wideFeatures <= TOLERANCE, file + " 36x68 features max|Δ| " + wideFeatures);
    }
}
