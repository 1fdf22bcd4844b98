package org.sa2vp.zoo.benchmark;

import org.junit.jupiter.api.Test;
import org.sa2vp.backbone.swin.SwinTransformerConfig;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.model.Sa2vpConfig;
import org.sa2vp.model.Sa2vpSwinConfig;
import org.sa2vp.train.TrainingRecipe;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The registry's per-dataset settings become the configurations that train on ViT-B/16: values from the authors'
 * README as the notes record them (CUB 16/0.1, Cars 64/1.5 with one deep map, dSprites/location 16/0.1 at batch 40,
 * Pets lr 5e-4), defaults where a row says nothing.
 */
class BenchmarkRecipesTest {

    private static final VisionTransformerConfig VIT_B = VisionTransformerConfig.named("vit_base_patch16_224");

    @Test
    void rowsBecomeSa2vpConfigurationsAndRecipes() {
        Sa2vpConfig cub = BenchmarkRecipes.sa2vp(Benchmarks.get("fgvc/cub-200-2011"), VIT_B);
        assertEquals(List.of(16, 16, 200), List.of(cub.getPromptRank(), cub.getAdapterSize(), cub.getNumClasses()));
        assertEquals(0.1, cub.getGamma());
        assertEquals(List.of(0, 4, 8), cub.getImageToPromptLayers());
        assertEquals(List.of(4, 8), cub.getDeepPromptLayers());
        assertEquals(0, cub.getBackbone().getNumClasses(), "the backbone's own head is not used");

        Sa2vpConfig cars = BenchmarkRecipes.sa2vp(Benchmarks.get("fgvc/stanford-cars"), VIT_B);
        assertEquals(List.of(64, 64, 196), List.of(cars.getPromptRank(), cars.getAdapterSize(),
                cars.getNumClasses()));
        assertEquals(1.5, cars.getGamma());
        assertEquals(List.of(4), cars.getDeepPromptLayers(), "one deep map");

        TrainingRecipe dsprites = BenchmarkRecipes.recipe(Benchmarks.get("vtab-1k/dsprites-location"));
        assertEquals(40, dsprites.getBatchSize());
        assertEquals(List.of(100, 10), List.of(dsprites.getEpochs(), dsprites.getWarmupEpochs()));
        assertEquals(5e-4, BenchmarkRecipes.recipe(Benchmarks.get("vtab-1k/pets")).getLearningRate());
        assertEquals(TrainingRecipe.paper().getBatchSize(),
                BenchmarkRecipes.recipe(Benchmarks.get("fgvc/cub-200-2011")).getBatchSize(),
                "no per-dataset batch in the sources: the paper's default");
    }

    @Test
    void everyRegisteredBenchmarkHasAValidConfigurationAndRecipe() {
        for (Benchmark b : Benchmarks.all()) {
            Sa2vpConfig config = BenchmarkRecipes.sa2vp(b, VIT_B);
            assertEquals(b.classes(), config.getNumClasses(), b.id());
            BenchmarkRecipes.recipe(b);
        }
    }

    /**
     * On a Swin backbone, SA2VP is SA2VP-Swin with the row's {@code swin} settings (the notes' §2: rank 8, adapter 8,
     * γ 1.5 for the structured group, else the authors' 0.5; no deep maps); rows without a Swin run (FGVC) keep the
     * authors' Swin defaults; the baselines are the same methods as on the ViT.
     */
    @Test
    void onASwinSa2vpIsSa2vpSwinWithTheRowsSwinSettings() {
        SwinTransformerConfig swinB = SwinTransformerConfig.named("swin_base_patch4_window7_224");
        Sa2vpSwinConfig kitti = assertInstanceOf(Sa2vpSwinConfig.class,
                BenchmarkRecipes.method(Benchmarks.get("vtab-1k/kitti-distance"), "sa2vp", swinB));
        assertEquals(List.of(8, 8, 4, 2), List.of(kitti.getPromptRank(), kitti.getAdapterSize(),
                kitti.getNumClasses(), kitti.getInteractionStage()));
        assertEquals(1.5, kitti.getGamma());
        assertEquals(List.of(0, 6, 12), kitti.getImageToPromptBlocks());
        assertEquals(Sa2vpSwinConfig.of(swinB, 4).withGamma(1.5), kitti);

        Sa2vpSwinConfig cifar = (Sa2vpSwinConfig) BenchmarkRecipes.method(Benchmarks.get("vtab-1k/cifar-100"), "sa2vp",
                swinB);
        assertEquals(Sa2vpSwinConfig.of(swinB, 100), cifar, "γ not given for the natural group: the authors' 0.5");
        assertEquals(Sa2vpSwinConfig.of(swinB, 200), BenchmarkRecipes.method(Benchmarks.get("fgvc/cub-200-2011"),
                "sa2vp", swinB), "no Swin run in the paper: the authors' Swin defaults");
        assertEquals("linear-probe", BenchmarkRecipes.method(Benchmarks.get("vtab-1k/kitti-distance"), "linear-probe",
                swinB).methodName());

        Benchmark dtd = Benchmarks.get("vtab-1k/dtd");
        Benchmark deep = new Benchmark("x/deep", "Deep", dtd.suite(), dtd.group(), dtd.classes(), dtd.layout(),
                dtd.folder(), dtd.preprocessing(), dtd.vit(), new BenchmarkSettings(8, 8, null, null, null, 1, null,
                null, null, null, null), null, null, null, dtd.source(), dtd.licence(), dtd.notes());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BenchmarkRecipes.method(deep, "sa2vp", swinB));
        assertEquals("x/deep has 1 deep prompt maps for the Swin, where SA2VP-Swin has none", e.getMessage());
    }
}
