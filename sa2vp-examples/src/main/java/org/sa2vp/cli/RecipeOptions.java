package org.sa2vp.cli;

import org.sa2vp.train.TrainingRecipe;
import picocli.CommandLine.Option;

/**
 * The training-recipe options every training command shares ({@code train}, {@code pretrain}, {@code demo},
 * {@code minivtab}). Each is null unless given, so {@link #apply} changes only what the user set and a command
 * keeps its own defaults (the paper's for {@code train}).
 */
public final class RecipeOptions {

    @Option(names = "--epochs", paramLabel = "N", description = "epochs")
    Integer epochs;

    @Option(names = "--warmup-epochs", paramLabel = "N", description = "linear warm-up from lr 0 (default: the "
            + "recipe's; scaled down in proportion when --epochs is below it)")
    Integer warmupEpochs;

    @Option(names = "--lr", paramLabel = "LR", description = "peak learning rate")
    Double lr;

    @Option(names = "--min-lr", paramLabel = "LR", description = "final learning rate of the cosine")
    Double minLr;

    @Option(names = "--weight-decay", paramLabel = "WD", description = "AdamW decoupled weight decay, weights only")
    Double weightDecay;

    @Option(names = "--batch-size", paramLabel = "N", description = "training batch (evaluation uses 4×)")
    Integer batchSize;

    @Option(names = "--seed", paramLabel = "S", description = "seed of initialisation, data order, augmentation and "
            + "dropout")
    Long seed;

    /**
     * {@code base} with the options that were given. When {@code --epochs} is below the base's warm-up and
     * {@code --warmup-epochs} is not given, the warm-up keeps its share of the run, rounded down (10 of 100 epochs
     * becomes 1 of 10, or 0 of 5), and a line on stderr says so.
     */
    public TrainingRecipe apply(TrainingRecipe base) {
        TrainingRecipe r = base;
        if (epochs != null) {
            r = r.withEpochs(epochs);
            if (warmupEpochs == null && base.getWarmupEpochs() > epochs) {
                r = base.withEpochsScaled(epochs);
                System.err.printf("--epochs %d is below the recipe's %d warm-up epochs (of %d): warming up for %d "
                        + "epoch%s instead; set --warmup-epochs to choose%n", epochs, base.getWarmupEpochs(),
                        base.getEpochs(), r.getWarmupEpochs(), r.getWarmupEpochs() == 1 ? "" : "s");
            }
        }
        if (warmupEpochs != null) {
            r = r.withWarmupEpochs(warmupEpochs);
        }
        if (lr != null) {
            r = r.withLearningRate(lr);
        }
        if (minLr != null) {
            r = r.withMinLearningRate(minLr);
        }
        if (weightDecay != null) {
            r = r.withWeightDecay(weightDecay);
        }
        if (batchSize != null) {
            r = r.withBatchSize(batchSize);
        }
        if (seed != null) {
            r = r.withSeed(seed);
        }
        return r.validated();
    }
}
