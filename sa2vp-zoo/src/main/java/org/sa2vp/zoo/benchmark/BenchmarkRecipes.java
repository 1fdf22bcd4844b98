package org.sa2vp.zoo.benchmark;

import org.sa2vp.backbone.Backbone;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.method.TuningMethods;
import org.sa2vp.model.Sa2vpConfig;
import org.sa2vp.model.Sa2vpSwinConfig;
import org.sa2vp.model.Sa2vpMethods;
import org.sa2vp.train.TrainingRecipe;

import java.util.List;

/**
 * A registered benchmark's settings as the configurations that train on it: SA2VP on a ViT with the authors'
 * per-dataset prompt rank, adapter width, γ and number of deep prompt maps ({@link #sa2vp}), SA2VP on a Swin with
 * the row's Swin settings ({@link #sa2vpSwin}), and the paper's recipe
 * with the dataset's batch size, learning rate and epochs where the sources give them ({@link #recipe}). What a row
 * leaves null keeps the authors' default.
 */
public final class BenchmarkRecipes {

    private BenchmarkRecipes() {
    }

    /**
     * SA2VP for {@code benchmark} on {@code backbone} (its head removed): {@link Sa2vpConfig#of} with the row's ViT
     * settings. The authors keep their deep prompt maps at the blocks where the interaction restarts (4 and 8 of
     * ViT-B's 12); a row with fewer maps keeps the first ones (our reading: which block Stanford Cars' single map
     * uses is not written down anywhere we can check).
     */
    public static Sa2vpConfig sa2vp(Benchmark benchmark, VisionTransformerConfig backbone) {
        return (Sa2vpConfig) method(benchmark, Sa2vpMethods.SA2VP, backbone);
    }

    /**
     * The registered tuning method {@code method} for {@code benchmark} on {@code backbone} (its head removed) with
     * the benchmark's classes: SA2VP with the row's settings for the backbone's family (ViT: {@link #sa2vp}; Swin:
     * the row's {@code swin} settings, see {@link #sa2vpSwin}), any other method (the baselines) at its defaults,
     * since the sources give per-dataset settings for SA2VP only.
     */
    public static TuningMethod method(Benchmark benchmark, String method, Backbone backbone) {
        TuningMethod base = TuningMethods.create(method, backbone.headless(), benchmark.classes());
        if (base instanceof Sa2vpConfig config && benchmark.vit() != null) {
            return withVitSettings(benchmark, config, backbone);
        }
        if (base instanceof Sa2vpSwinConfig config && benchmark.swin() != null) {
            return sa2vpSwin(benchmark, config);
        }
        return base;
    }

    private static Sa2vpConfig withVitSettings(Benchmark benchmark, Sa2vpConfig config, Backbone backbone) {
        BenchmarkSettings vit = benchmark.vit();
        Sa2vpConfig.Sa2vpConfigBuilder b = config.toBuilder();
        if (vit.promptRank() != null) {
            b.promptRank(vit.promptRank());
        }
        if (vit.adapterWidth() != null) {
            b.adapterSize(vit.adapterWidth());
        }
        if (vit.gamma() != null) {
            b.gamma(vit.gamma());
        }
        if (vit.dropout() != null) {
            b.dropout(vit.dropout());
        }
        if (vit.deepPromptMaps() != null) {
            List<Integer> layers = config.getDeepPromptLayers();
            if (vit.deepPromptMaps() > layers.size()) {
                throw new IllegalArgumentException(benchmark.id() + " has " + vit.deepPromptMaps() + " deep prompt "
                        + "maps, more than the " + layers.size() + " interaction restarts of " + backbone.describe());
            }
            b.deepPromptLayers(List.copyOf(layers.subList(0, vit.deepPromptMaps())));
        }
        return b.build().validated();
    }

    /**
     * SA2VP-Swin ({@code config}: the authors' Swin defaults) with the row's {@code swin} settings where it gives
     * them: rank, adapter width, γ, and the dropout on both the cross-attention output and the adapters (where the
     * authors' code has it on the Swin). The authors' Swin has no deep prompt maps
     * ({@code official-sa2vp-behaviour.md} §2), so a row with some is an error.
     */
    public static Sa2vpSwinConfig sa2vpSwin(Benchmark benchmark, Sa2vpSwinConfig config) {
        BenchmarkSettings swin = benchmark.swin();
        if (swin == null) {
            return config;
        }
        Sa2vpSwinConfig.Sa2vpSwinConfigBuilder b = config.toBuilder();
        if (swin.promptRank() != null) {
            b.promptRank(swin.promptRank());
        }
        if (swin.adapterWidth() != null) {
            b.adapterSize(swin.adapterWidth());
        }
        if (swin.gamma() != null) {
            b.gamma(swin.gamma());
        }
        if (swin.dropout() != null) {
            b.attentionDropout(swin.dropout()).adapterDropout(swin.dropout());
        }
        if (swin.deepPromptMaps() != null && swin.deepPromptMaps() > 0) {
            throw new IllegalArgumentException(benchmark.id() + " has " + swin.deepPromptMaps() + " deep prompt maps "
                    + "for the Swin, where SA2VP-Swin has none");
        }
        return b.build().validated();
    }

    /**
     * The paper's recipe ({@link TrainingRecipe#paper()}) with the row's batch size, learning rate, epochs (the
     * warm-up keeping its share), warm-up, weight decay and final learning rate where the row gives them.
     */
    public static TrainingRecipe recipe(Benchmark benchmark) {
        TrainingRecipe recipe = TrainingRecipe.paper();
        BenchmarkSettings vit = benchmark.vit();
        if (vit == null) {
            return recipe;
        }
        if (vit.batchSize() != null) {
            recipe = recipe.withBatchSize(vit.batchSize());
        }
        if (vit.learningRate() != null) {
            recipe = recipe.withLearningRate(vit.learningRate());
        }
        if (vit.epochs() != null) {
            recipe = recipe.withEpochsScaled(vit.epochs());
        }
        if (vit.warmupEpochs() != null) {
            recipe = recipe.withWarmupEpochs(vit.warmupEpochs());
        }
        if (vit.weightDecay() != null) {
            recipe = recipe.withWeightDecay(vit.weightDecay());
        }
        if (vit.minLearningRate() != null) {
            recipe = recipe.withMinLearningRate(vit.minLearningRate());
        }
        return recipe.validated();
    }
}
