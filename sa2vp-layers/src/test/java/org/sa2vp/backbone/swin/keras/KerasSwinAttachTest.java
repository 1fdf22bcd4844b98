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
import org.sa2vp.backbone.swin.SwinTransformerConfig;
import org.sa2vp.method.TuningMethods;
import org.sa2vp.model.AttachAssertions;
import org.sa2vp.model.Sa2vpMethods;
import org.sa2vp.model.Sa2vpModel;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sa2vp.model.AttachAssertions.floats;

/**
 * Tuning methods attached to a Keras Swin imported by {@link KerasSwinTransformer#importModel} (the tfjs-written
 * {@code swin_tiny.h5}) against the checkpoint route on the same weights ({@code swin_tiny_microsoft.npz}, written
 * by the fixture converter as a PyTorch state dict in Microsoft's names): {@code Backbones.fromGraph} reads the
 * checkpoint's architecture and weights bit for bit, and SA2VP-Swin (and every other method on Swin) attached to the
 * imported graph equals the method built on the checkpoint.
 */
class KerasSwinAttachTest {

    private static BackboneCheckpoint loaded;
    private static ComputationGraph imported;

    @BeforeAll
    static void importFixture() throws Exception {
        loaded = Backbones.read(KerasSwinTransformerTest.fixture("swin_tiny_microsoft.npz"),
                new CheckpointOptions(null, 32, false));
        imported = KerasSwinTransformer.importModel(KerasSwinTransformerTest.fixture("swin_tiny.h5"));
    }

    @Test
    void recognisesTheImportedSwinBitForBit() {
        BackboneCheckpoint read = Backbones.fromGraph(imported, CheckpointOptions.defaults());
        SwinTransformerConfig config = SwinCheckpoint.of(read).config();
        assertEquals("embed 16, depths [2, 2], heads [2, 4], window 4, patch 2, 32x32 images, 3 channels, MLP ratio "
                + "2.0", config.describe());
        assertTrue(config.sameArchitecture(loaded.config()));
        for (String key : loaded.weights().keys()) {
            if (!key.startsWith("head.")) {
                assertArrayEquals(floats(loaded.weights().get(key)), floats(read.weights().get(key)), key);
            }
        }
        assertEquals(loaded.weights().keys().size() - 2, read.weights().keys().size(), "all but the head");
    }

    @Test
    void everyMethodOnSwinAttachesAsTheCheckpointLoads() throws Exception {
        INDArray nhwc = Nd4j.createFromNpzFile(KerasSwinTransformerTest.fixture("swin_tiny_reference.npz").toFile())
                .get("input");
        INDArray images = nhwc.permute(0, 3, 1, 2).dup('c');                       // the methods' graphs read NCHW
        List<String> names = AttachAssertions.methodsOn("swin");
        assertTrue(names.contains(Sa2vpMethods.SA2VP), "methods on Swin: " + names);
        for (String name : names) {
            AttachAssertions.assertMethodAttachesAsLoaded(name, loaded, images, (method, classes) ->
                    TuningMethods.attach(method, classes, imported, Sa2vpModel.defaultGlobals()));
        }
    }
}
