package org.sa2vp.method;

import org.junit.jupiter.api.Test;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitFixtures;
import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.baseline.HeadTuningConfig;
import org.sa2vp.baseline.VptConfig;
import org.sa2vp.layers.AttentionMode;
import org.sa2vp.model.Sa2vpConfig;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The method registry: variants per backbone family, settings by JSON name, stored configurations; errors. */
class TuningMethodsTest {

    private static final VisionTransformerConfig VIT = VisionTransformerConfig.named("vit_tiny_patch16_224");

    @Test
    void theLibraryRegistersThePapersMethodsInTableOrder() {
        assertEquals(List.of("linear-probe", "vpt-shallow", "vpt-deep", "full-finetune", "sa2vp"),
                TuningMethods.names());
        assertEquals(MethodVariant.ANY_FAMILY, TuningMethods.variant("linear-probe", "swin").backboneFamily());
        // SA2VP and VPT have a variant per family (the authors' ViT and Swin models); none for a family without one.
        assertEquals("swin", TuningMethods.variant("sa2vp", "swin").backboneFamily());
        assertEquals("vit", TuningMethods.variant("sa2vp", "vit").backboneFamily());
        assertEquals("swin", TuningMethods.variant("vpt-deep", "swin").backboneFamily());
        assertEquals("vit", TuningMethods.variant("vpt-shallow", "vit").backboneFamily());
        IllegalArgumentException family = assertThrows(IllegalArgumentException.class,
                () -> TuningMethods.variant("vpt-deep", "convnext"));
        assertEquals("method 'vpt-deep' is registered for backbone families vit, swin, not 'convnext'",
                family.getMessage());
        assertEquals(Sa2vpConfig.of(VIT, 7), TuningMethods.create("SA2VP", VIT.withNumClasses(1000), 7));
    }

    @Test
    void settingsAreTheConfigurationsJsonFields() {
        Sa2vpConfig base = Sa2vpConfig.of(VIT, 10);
        assertEquals(List.of("backbone", "numClasses", "promptRank", "adapterSize", "adapterActivation", "adapter",
                "gamma", "lossWeight", "windowSize", "attentionMode", "imageToPromptLayers", "deepPromptLayers",
                "dropout"), TuningMethods.settingNames(base));
        assertEquals(base.withPromptRank(8).withAttentionMode(AttentionMode.GLOBAL).withImageToPromptLayers(List.of(1)),
                TuningMethods.withSettings(base, Map.of("promptRank", 8, "attentionMode", "GLOBAL",
                        "imageToPromptLayers", List.of(1))));
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> TuningMethods.withSettings(VptConfig.of(VIT, 10), Map.of("promptRank", 8)));
        assertEquals("method vpt-deep has no setting 'promptRank'; its settings: backbone, numClasses, "
                + "numPromptTokens, deep, promptDropout", unknown.getMessage());
        IllegalArgumentException invalid = assertThrows(IllegalArgumentException.class,
                () -> TuningMethods.withSettings(base, Map.of("windowSize", 4)));
        assertEquals("Sa2vpConfig: windowSize must be a positive odd number, got 4", invalid.getMessage());
    }

    @Test
    void aStoredConfigurationMustDescribeTheSameTrainedParts() {
        HeadTuningConfig probe = HeadTuningConfig.linearProbe(VIT, 10);
        TuningMethods.requireTrainedBy(probe, HeadTuningConfig.linearProbe(VIT.withName("custom"), 10).toJson(), "f");
        IllegalArgumentException classes = assertThrows(IllegalArgumentException.class,
                () -> TuningMethods.requireTrainedBy(probe, HeadTuningConfig.linearProbe(VIT, 5).toJson(), "f"));
        assertTrue(classes.getMessage().startsWith("f: trained by linear-probe for 5 classes on width 192"),
                classes.getMessage());
        IllegalArgumentException method = assertThrows(IllegalArgumentException.class,
                () -> TuningMethods.requireTrainedBy(probe, VptConfig.of(VIT, 10).toJson(), "f"));
        assertTrue(method.getMessage().startsWith("f: trained by vpt-deep for 10 classes"), method.getMessage());
        CheckpointException notSafetensors = assertThrows(CheckpointException.class,
                () -> TuningMethods.trainedBy(VitFixtures.file("timm.npz")));
        assertTrue(notSafetensors.getMessage().endsWith("not an SA2VP adapter file (expected the .safetensors "
                + "written by sa2vp train)"), notSafetensors.getMessage());
        CheckpointException none = assertThrows(CheckpointException.class,
                () -> TuningMethods.trainedBy(VitFixtures.file("timm.safetensors")));
        assertTrue(none.getMessage().endsWith("no tuning method configurations in its metadata, where sa2vp train "
                + "writes one"), none.getMessage());
    }
}
