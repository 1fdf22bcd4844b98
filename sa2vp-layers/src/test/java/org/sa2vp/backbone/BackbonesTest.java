package org.sa2vp.backbone;

import org.junit.jupiter.api.Test;
import org.sa2vp.backbone.swin.SwinCheckpoint;
import org.sa2vp.backbone.swin.SwinFamily;
import org.sa2vp.backbone.swin.SwinFixtures;
import org.sa2vp.backbone.swin.SwinTransformerConfig;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.backbone.vit.VitFamily;
import org.sa2vp.backbone.vit.VitFixtures;
import org.sa2vp.config.Registry;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backbone registry: what the ViT and Swin families register, JSON by family id, reading files (each family
 * recognises its own), one-line errors.
 */
class BackbonesTest {

    @Test
    void theFamiliesRegisterThemselvesWithTheirVariantsAndReaders() {
        assertEquals(List.of("vit", "swin"), Backbones.families());
        assertEquals(VisionTransformerConfig.named("vit_base_patch16_224"), Backbones.variant("vit_base_patch16_224"));
        assertEquals(SwinTransformerConfig.named("swin_base_patch4_window7_224"),
                Backbones.variant("swin_base_patch4_window7_224"));
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> Backbones.variant("convnext_tiny"));
        assertTrue(unknown.getMessage().startsWith("unknown backbone variant 'convnext_tiny'; registered: "
                + "vit_tiny_patch8_224, "), unknown.getMessage());
        assertTrue(unknown.getMessage().endsWith(", swin_large_patch4_window12_384"), unknown.getMessage());
        IllegalArgumentException family = assertThrows(IllegalArgumentException.class,
                () -> Backbones.family("convnext"));
        assertEquals("unknown backbone family 'convnext'; registered: vit, swin", family.getMessage());

        VitCheckpoint read = assertInstanceOf(VitCheckpoint.class, Backbones.read(VitFixtures.file("timm.safetensors"),
                CheckpointOptions.defaults().withNumHeads(VitFixtures.HEADS)));
        assertEquals(VitFamily.NAME, read.config().family());
        assertEquals(32, read.config().featureWidth());
        assertEquals(List.of(new Backbone.Stage(4, 4, 32, 2, 2, true)), read.config().stages());
        for (String file : new String[]{"torchvision.safetensors", "timm.safetensors", "microsoft.npz",
                "hf.safetensors", "hf_swinmodel.npz"}) {
            SwinCheckpoint swin = assertInstanceOf(SwinCheckpoint.class, Backbones.read(SwinFixtures.file(file),
                    CheckpointOptions.defaults().withImageSize(SwinFixtures.IMAGE)), file);
            assertEquals(SwinFamily.NAME, swin.config().family());
            assertEquals(32, swin.config().featureWidth());
            assertEquals(List.of(new Backbone.Stage(10, 10, 4, 2, 1, false), new Backbone.Stage(5, 5, 8, 2, 2, false),
                    new Backbone.Stage(3, 3, 16, 2, 2, false), new Backbone.Stage(2, 2, 32, 2, 4, false)),
                    swin.config().stages());
        }
    }

    @Test
    void backboneJsonCarriesItsFamilyAndUntaggedJsonIsAVit() {
        VisionTransformerConfig base = VisionTransformerConfig.named("vit_small_patch16_224");
        String json = base.toJson();
        assertTrue(json.startsWith("{\"family\":\"vit\","), json);
        assertEquals(base, Backbones.fromJson(json));
        String untagged = json.replace("\"family\":\"vit\",", "");
        assertEquals(base, Backbones.fromJson(untagged), "the first format had no family id");
        assertEquals(base, VisionTransformerConfig.fromJson(untagged));
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
                () -> Backbones.fromJson(json.replace("\"family\":\"vit\"", "\"family\":\"convnext\"")));
        assertTrue(other.getMessage().contains("unknown Backbone family 'convnext'; registered: vit, swin"),
                other.getMessage());
        SwinTransformerConfig swin = SwinTransformerConfig.named("swin_tiny_patch4_window7_224");
        assertTrue(swin.toJson().startsWith("{\"family\":\"swin\","), swin.toJson());
        assertEquals(swin, Backbones.fromJson(swin.toJson()));
    }

    @Test
    void sameArchitectureIgnoresNamesDropoutAndHead() {
        VisionTransformerConfig base = VisionTransformerConfig.named("vit_base_patch16_224");
        assertTrue(base.sameArchitecture(base.withName("custom").withDropout(0.1).withNumClasses(10)));
        assertTrue(!base.sameArchitecture(base.withDepth(6)));
        assertEquals("width 768, depth 12, 12 heads, patch 16, 224x224 images, 3 channels, MLP 3072", base.describe());
        assertEquals(85_798_656L, base.parameterCount(), "ViT-B/16 without head (docs/AUTHORS-CODE.md §1.1)");
    }

    @Test
    void aRegistryRefusesASecondEntryUnderATakenName() {
        Registry<String> registry = new Registry<>("thing");
        registry.register("a", "first");
        registry.register("a", "first");
        IllegalArgumentException taken = assertThrows(IllegalArgumentException.class,
                () -> registry.register("a", "second"));
        assertEquals("thing 'a' is already registered (first); choose another name", taken.getMessage());
        assertEquals("unknown thing 'b'; registered: a",
                assertThrows(IllegalArgumentException.class, () -> registry.get("b")).getMessage());
    }
}
