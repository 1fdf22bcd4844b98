package org.sa2vp.backbone.swin.keras;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.Backbones;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.swin.SwinCheckpoint;
import org.sa2vp.backbone.swin.SwinFamily;
import org.sa2vp.backbone.swin.SwinTransformer;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.backbone.vit.VitFamily;
import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.backbone.weights.keras.KerasBackboneImports;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sa2vp.model.AttachAssertions.floats;
import static org.sa2vp.TestArrays.maxAbsDiff;

/**
 * A Keras {@code .h5} Swin (the tfjs-written {@code swin_tiny.h5}) as a Swin checkpoint file: {@code Backbones.read}
 * gives what {@code SwinFamily.fromGraph} reads of the imported graph, plus its classifier head, and runs as tfjs
 * ran it; each family recognises its own Keras files from their layer classes; a Keras file of neither layout fails
 * in one line.
 */
class KerasSwinCheckpointTest {

    private static Path h5;
    private static SwinCheckpoint read;
    private static ComputationGraph imported;

    @BeforeAll
    static void readFixture() throws Exception {
        h5 = KerasSwinTransformerTest.fixture("swin_tiny.h5");
        read = SwinCheckpoint.of(Backbones.read(h5, CheckpointOptions.defaults()));
        imported = KerasSwinTransformer.importModel(h5);
    }

    @Test
    void readingTheFileIsTheGraphRoutePlusTheHead() {
        SwinCheckpoint graphRoute = SwinCheckpoint.of(new SwinFamily().fromGraph(imported,
                CheckpointOptions.defaults()));
        assertEquals(graphRoute.config().withName("swin_tiny.h5").withNumClasses(10), read.config());
        assertEquals("swin_tiny.h5", read.source());
        for (String key : graphRoute.weights().keys()) {
            assertArrayEquals(floats(graphRoute.weights().get(key)), floats(read.weights().get(key)), key);
        }
        Map<String, INDArray> head = imported.getLayer("head").paramTable();
        assertArrayEquals(floats(head.get("W").transpose()), floats(read.weights().get("head.fc.weight")));
        assertArrayEquals(floats(head.get("b")), floats(read.weights().get("head.fc.bias")));
        assertEquals(graphRoute.weights().keys().size() + 2, read.weights().keys().size(), "the graph's and the head");
    }

    @Test
    void theCheckpointRunsAsTfjsOnNchwImages() throws Exception {
        Map<String, INDArray> reference = Nd4j.createFromNpzFile(
                KerasSwinTransformerTest.fixture("swin_tiny_reference.npz").toFile());
        INDArray images = reference.get("input").permute(0, 3, 1, 2).dup('c');        // Keras NHWC -> NCHW
        ComputationGraph graph = read.toGraph();
        double logits = maxAbsDiff(SwinTransformer.logits(graph, images), reference.get("logits"));
        double features = maxAbsDiff(SwinTransformer.features(graph, images), reference.get("features"));
        System.out.printf("swin_tiny.h5 read as a checkpoint vs tfjs: max |Δ| logits %.3g, features %.3g%n", logits,
                features);
        assertTrue(logits <= 1e-4, "logits differ by " + logits);
        assertTrue(features <= 1e-4, "features differ by " + features);
    }

    @Test
    void eachFamilyRecognisesItsOwnKerasFiles() throws Exception {
        Path vit = KerasSwinTransformerTest.fixture("vit_tiny.h5");
        Path unsupported = KerasSwinTransformerTest.fixture("swin_tiny_unsupported_layer.h5");
        for (Path swin : new Path[]{h5, unsupported}) {
            assertEquals(Optional.of("swin"), KerasBackboneImports.familyOf(swin));
            assertTrue(new SwinFamily().recognises(swin), swin.toString());
            assertFalse(new VitFamily().recognises(swin), swin.toString());
        }
        assertEquals(Optional.of("vit"), KerasBackboneImports.familyOf(vit));
        assertTrue(new VitFamily().recognises(vit));
        assertFalse(new SwinFamily().recognises(vit));
        assertEquals("vit_tiny.h5", Backbones.read(vit, CheckpointOptions.defaults()).source());
        CheckpointException dropPath = assertThrows(CheckpointException.class,
                () -> Backbones.read(unsupported, CheckpointOptions.defaults()));
        assertEquals("swin_tiny_unsupported_layer.h5: layer 'layers_0_blocks_1' has Keras class 'DropPath', which "
                + "DL4J's Keras import and the sa2vp Keras layers do not support", dropPath.getMessage());
    }

    @Test
    void aKerasFileOfNeitherLayoutFailsInOneLine() throws Exception {
        Path cnn = KerasSwinTransformerTest.fixture("cnn_tiny.h5");
        assertEquals(Optional.empty(), KerasBackboneImports.familyOf(cnn));
        assertFalse(new SwinFamily().recognises(cnn));
        String neither = "cnn_tiny.h5: a Keras model that is neither a ViT (vit-keras: ClassToken, AddPositionEmbs) "
                + "nor a Swin Transformer (SwinTransformer-Tensorflow2: PatchEmbed, SwinTransformerBlock, "
                + "PatchMerging); its layer classes: [Conv2D, Dense, GlobalAveragePooling2D, InputLayer]";
        assertEquals(neither, assertThrows(CheckpointException.class,
                () -> Backbones.read(cnn, CheckpointOptions.defaults())).getMessage());
        assertEquals(neither, assertThrows(CheckpointException.class,
                () -> SwinCheckpoint.read(cnn, CheckpointOptions.defaults())).getMessage());
        assertEquals("swin_tiny.h5: a Keras model of a Swin Transformer (SwinTransformer-Tensorflow2: PatchEmbed, "
                + "SwinTransformerBlock, PatchMerging), which backbone family 'swin' reads, not 'vit'",
                assertThrows(CheckpointException.class,
                        () -> VitCheckpoint.read(h5, VitCheckpoint.Options.defaults())).getMessage());
    }

}
