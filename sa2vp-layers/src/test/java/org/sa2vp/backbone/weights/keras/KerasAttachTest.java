package org.sa2vp.backbone.weights.keras;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.Backbones;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.backbone.vit.VitFixtures;
import org.sa2vp.method.TuningMethods;
import org.sa2vp.model.AttachAssertions;
import org.sa2vp.model.Sa2vp;
import org.sa2vp.model.Sa2vpModel;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.sa2vp.model.AttachAssertions.CLASSES;
import static org.sa2vp.model.AttachAssertions.floats;

/**
 * Attaching SA2VP and every baseline to a Keras ViT imported with DL4J's {@code KerasModelImport} through
 * {@link KerasVisionTransformer#importModel} (the tfjs-written {@code vit_tiny.h5}): the graph's weights and
 * architecture are those the {@code .h5} checkpoint route reads, and the attached graphs equal that route's.
 */
class KerasAttachTest {

    private static BackboneCheckpoint loaded;
    private static ComputationGraph imported;

    @BeforeAll
    static void importFixture() throws Exception {
        Path h5 = Path.of(KerasAttachTest.class.getResource("/fixtures/keras/vit_tiny.h5").toURI());
        loaded = Backbones.read(h5, CheckpointOptions.defaults());
        imported = KerasVisionTransformer.importModel(h5);
    }

    @Test
    void recognisesTheImportedVitBitForBit() {
        BackboneCheckpoint read = Backbones.fromGraph(imported, CheckpointOptions.defaults());
        VisionTransformerConfig config = VitCheckpoint.of(read).config();
        assertEquals("width 32, depth 2, 2 heads, patch 8, 32x32 images, 3 channels, MLP 64", config.describe());
        assertEquals(VitCheckpoint.of(loaded).config().getLayerNormEps(), config.getLayerNormEps());
        for (String key : loaded.weights().keys()) {
            if (!key.startsWith("head.")) {
                assertArrayEquals(floats(loaded.weights().get(key)), floats(read.weights().get(key)), key);
            }
        }
        assertEquals(loaded.weights().keys().size() - 2, read.weights().keys().size(), "all but the head");
    }

    @Test
    void everyMethodAttachesAsTheH5CheckpointLoads() {
        AttachAssertions.assertEveryMethodAttachesAsLoaded(loaded, VitFixtures.input(), (name, classes) ->
                TuningMethods.attach(name, classes, imported, Sa2vpModel.defaultGlobals()));
        AttachAssertions.assertSa2vpAttachesAsLoaded(loaded, Sa2vp.attach(imported, CLASSES), VitFixtures.input());
    }
}
