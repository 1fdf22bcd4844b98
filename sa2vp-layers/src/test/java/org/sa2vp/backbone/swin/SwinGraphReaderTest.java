package org.sa2vp.backbone.swin;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.Backbones;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.vit.VisionTransformer;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.weights.StateDict;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.sa2vp.model.AttachAssertions.floats;

/** {@link SwinFamily#fromGraph} on graphs built by {@link SwinTransformer}, and its one-line refusals. */
class SwinGraphReaderTest {

    /** Two stages, a map (5x7) that window 3 does not divide, drop path 0.1. */
    private static SwinTransformerConfig config() {
        return SwinTransformerConfig.builder().inChannels(2).imageHeight(10).imageWidth(14).patchSize(2).embedDim(4)
                .depths(List.of(2, 3)).numHeads(List.of(1, 2)).windowSize(3).mlpRatio(2.0).layerNormEps(1e-6)
                .dropPathRate(0.1).numClasses(3).build().validated();
    }

    @Test
    void readsTheArchitectureAndEveryBackboneWeightOfASwinGraph() {
        SwinTransformerConfig config = config();
        ComputationGraph graph = SwinTransformer.create(config);
        BackboneCheckpoint read = Backbones.fromGraph(graph, CheckpointOptions.defaults());
        SwinTransformerConfig found = SwinCheckpoint.of(read).config();
        assertEquals(config.headless().withName(SwinGraphReader.SOURCE), found);
        StateDict exported = SwinCheckpoint.export(graph, config.headless());
        assertEquals(exported.keys(), read.weights().keys());
        for (String key : exported.keys()) {
            assertArrayEquals(floats(exported.get(key)), floats(read.weights().get(key)), key);
        }
    }

    @Test
    void optionsSetTheImageSizeAndCheckTheHeads() {
        ComputationGraph graph = SwinTransformer.create(config());
        SwinTransformerConfig resized = SwinCheckpoint.of(new SwinFamily().fromGraph(graph,
                new CheckpointOptions(null, 12, false))).config();
        assertEquals(12, resized.getImageHeight());
        assertEquals(12, resized.getImageWidth());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SwinFamily().fromGraph(graph, new CheckpointOptions(2, null, false)));
        assertEquals("--heads 2 contradicts the graph, whose first stage has 1 heads", e.getMessage());
    }

    @Test
    void aVitGraphIsRefusedInOneLineNamingTheVertex() {
        VisionTransformerConfig vit = VisionTransformerConfig.builder().imageHeight(16).imageWidth(16).patchSize(8)
                .hiddenSize(8).depth(1).numHeads(2).mlpSize(16).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SwinFamily().fromGraph(VisionTransformer.create(vit), CheckpointOptions.defaults()));
        assertEquals("vertex 'patch_embed' is a PatchEmbedding where the patch embedding (SwinPatchEmbedding) was "
                + "expected", e.getMessage());
    }
}
