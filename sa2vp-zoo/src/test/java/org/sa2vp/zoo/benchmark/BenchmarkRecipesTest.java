package org.sa2vp.zoo.benchmark;

import org.junit.jupiter.api.Test;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.model.Sa2vpConfig;
import org.sa2vp.train.TrainingRecipe;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
