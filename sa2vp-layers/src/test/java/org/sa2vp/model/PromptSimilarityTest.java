package org.sa2vp.model;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.sa2vp.backbone.vit.VisionTransformerConfig;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Figure 5's similarity maps index the packed streams correctly, and the salient patch is the textured one. */
class PromptSimilarityTest {

    @Test
    void mapsAreCosinesBetweenTheQueryImageTokenAndEachPromptPatchToken() {
        VisionTransformerConfig vit = VisionTransformerConfig.builder().name("t").inChannels(1).imageHeight(12)
                .imageWidth(16).patchSize(4).hiddenSize(8).depth(3).numHeads(2).mlpSize(16).build().validated();
        Sa2vpConfig config = Sa2vpConfig.of(vit, 3).withPromptRank(2).withAdapterSize(4);
        ComputationGraph graph = Sa2vpModel.create(config);
        Nd4j.getRandom().setSeed(1);
        INDArray images = Nd4j.rand(DataType.FLOAT, 2, 1, 12, 16);
        int[] queries = {0, 7};
        PromptSimilarity.Map2d[] maps = PromptSimilarity.compute(graph, config, images, 1, queries);
        INDArray packed = graph.feedForward(new INDArray[]{images}, false).get(Sa2vpModel.layer(1));
        int tokens = 1 + 3 * 4;
        for (int b = 0; b < 2; b++) {
            assertEquals(queries[b] / 4, maps[b].queryRow());
            assertEquals(queries[b] % 4, maps[b].queryColumn());
            INDArray query = packed.get(NDArrayIndex.point(b), NDArrayIndex.point(1 + queries[b]), NDArrayIndex.all());
            for (int p = 0; p < 12; p++) {
                INDArray prompt = packed.get(NDArrayIndex.point(b), NDArrayIndex.point(tokens + 1 + p),
                        NDArrayIndex.all());
                double expected = query.mul(prompt).sumNumber().doubleValue()
                        / (query.norm2Number().doubleValue() * prompt.norm2Number().doubleValue());
                assertEquals(expected, maps[b].similarity()[p / 4][p % 4], 1e-5, "image " + b + ", patch " + p);
            }
        }
        assertThrows(IllegalArgumentException.class,
                () -> PromptSimilarity.compute(graph, config, images, 1, new int[]{0, 12}));
    }

    @Test
    void theSalientPatchIsTheOneWhosePixelsVaryMost() {
        INDArray images = Nd4j.zeros(DataType.FLOAT, 2, 1, 8, 8);
        // Image 0: a checkerboard in patch (1, 0); image 1: an edge inside patch (0, 1), flat elsewhere.
        for (int y = 4; y < 8; y++) {
            for (int x = 0; x < 4; x++) {
                images.putScalar(new long[]{0, 0, y, x}, (x + y) % 2);
            }
        }
        images.putScalar(new long[]{1, 0, 1, 6}, 1);
        assertArrayEquals(new int[]{2, 1}, PromptSimilarity.salientPatches(images, 4));
    }
}
