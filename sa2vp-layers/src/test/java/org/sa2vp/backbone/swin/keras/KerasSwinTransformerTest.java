package org.sa2vp.backbone.swin.keras;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.TestFixtures;
import org.sa2vp.TestGraphs;
import org.sa2vp.backbone.swin.LayerNormMeanPooling;
import org.sa2vp.backbone.swin.PatchMerging;
import org.sa2vp.backbone.swin.SwinBlock;
import org.sa2vp.backbone.swin.SwinPatchEmbedding;
import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.backbone.weights.keras.KerasVisionTransformer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sa2vp.TestArrays.maxAbsDiff;

/**
 * {@link KerasSwinTransformer#importModel} on the tfjs-written {@code swin_tiny.h5} (tools/reference/keras: 2 stages
 * of a plain and a shifted block, 16x16 then 8x8 tokens, window 4): the imported graph of the Swin family's layers
 * against tfjs's logits and features, and the loader's one-line errors, worded as the ViT loader's.
 */
class KerasSwinTransformerTest {

    private static Path h5;
    private static Map<String, INDArray> reference;
    private static ComputationGraph graph;

    @TempDir
    Path dir;

    @BeforeAll
    static void importFixture() throws Exception {
        h5 = fixture("swin_tiny.h5");
        reference = Nd4j.createFromNpzFile(fixture("swin_tiny_reference.npz").toFile());
        graph = KerasSwinTransformer.importModel(h5);
    }

    static Path fixture(String name) {
        return TestFixtures.file("keras", name, "tools/reference/keras/make_fixture.sh");
    }

    @Test
    void importedGraphMatchesTfjs() {
        Map<String, INDArray> activations = graph.feedForward(new INDArray[]{reference.get("input")}, false);
        double logits = maxAbsDiff(activations.get("head"), reference.get("logits"));
        double features = maxAbsDiff(activations.get("norm"), reference.get("features"));
        System.out.printf("Keras Swin parity vs tfjs: max |Δ| logits %.3g, pooled features %.3g (logits up to %.3g)%n",
                logits, features, reference.get("logits").amaxNumber().doubleValue());
        assertTrue(logits <= 1e-4, "logits differ by " + logits);
        assertTrue(features <= 1e-4, "features differ by " + features);
        assertArrayEquals(new long[]{2, 10}, graph.outputSingle(reference.get("input")).shape());
    }

    @Test
    void keraslayersBecomeTheSwinFamilysLayers() {
        assertInstanceOf(SwinPatchEmbedding.class, graph.getLayer("patch_embed").conf().getLayer());
        for (String block : new String[]{"layers_0_blocks_0", "layers_0_blocks_1", "layers_1_blocks_0",
                "layers_1_blocks_1"}) {
            assertInstanceOf(SwinBlock.class, graph.getLayer(block).conf().getLayer(), block);
        }
        SwinBlock shifted = (SwinBlock) graph.getLayer("layers_0_blocks_1").conf().getLayer();
        assertEquals(2, shifted.getShiftSize());
        assertEquals(32, shifted.getMlpSize());
        PatchMerging merging = (PatchMerging) graph.getLayer("layers_0_downsample").conf().getLayer();
        assertEquals(16, merging.getGridHeight());
        assertEquals(16, merging.getHiddenSize());
        assertInstanceOf(LayerNormMeanPooling.class, graph.getLayer("norm").conf().getLayer());
        assertEquals(null, graph.getVertex("avgpool"), "the pooling is folded into the final norm");
    }

    @Test
    void modelSerializerRoundTripKeepsOutputs() throws Exception {
        TestGraphs.assertModelSerializerRoundTrip(graph, dir, "swin_tiny.zip", reference.get("input"));
    }

    @Test
    void unsupportedLayerIsTheOneLineErrorOfTheVitLoader() throws Exception {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> KerasSwinTransformer.importModel(fixture("swin_tiny_unsupported_layer.h5")));
        assertEquals("swin_tiny_unsupported_layer.h5: layer 'layers_0_blocks_1' has Keras class 'DropPath', which "
                + "DL4J's Keras import and the sa2vp Keras layers do not support", e.getMessage());
        CheckpointException vit = assertThrows(CheckpointException.class,
                () -> KerasVisionTransformer.importModel(fixture("vit_tiny_unsupported_layer.h5")));
        assertEquals("vit_tiny_unsupported_layer.h5: layer 'encoderblock_0_add2' has Keras class 'StochasticDepth', "
                + "which DL4J's Keras import and the sa2vp Keras layers do not support", vit.getMessage());
    }

    @Test
    void malformedFilesGiveTheVitLoadersMessages() throws Exception {
        byte[] bytes = Files.readAllBytes(h5);
        Path truncated = dir.resolve("truncated.h5");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length / 2));
        Path text = dir.resolve("text.h5");
        Files.writeString(text, "not an HDF5 file\n");
        for (Path file : new Path[]{truncated, text}) {
            String swin = assertThrows(CheckpointException.class, () -> KerasSwinTransformer.importModel(file))
                    .getMessage();
            String vit = assertThrows(CheckpointException.class, () -> KerasVisionTransformer.importModel(file))
                    .getMessage();
            assertEquals(vit, swin);
            assertTrue(swin.startsWith(file.getFileName() + ": not a readable HDF5 file, truncated or corrupt ("),
                    swin);
            assertEquals(-1, swin.indexOf('\n'), swin);
        }
        Path absent = dir.resolve("absent.h5");
        String message = assertThrows(CheckpointException.class, () -> KerasSwinTransformer.importModel(absent))
                .getMessage();
        assertEquals("absent.h5: not a readable file (" + absent.toAbsolutePath() + ")", message);
        assertEquals(assertThrows(CheckpointException.class, () -> KerasVisionTransformer.importModel(absent))
                .getMessage(), message);
    }
}
