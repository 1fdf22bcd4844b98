package org.sa2vp.train;

import java.nio.file.Path;
import java.util.Locale;

/**
 * The training loss became NaN or infinite, so the {@link Trainer} stopped before writing anything: the run's
 * directory still holds the last good checkpoint ({@code last.zip}, {@code state.json}) and the best network and
 * trained tensors. Resuming would replay the same steps to the same loss: start again with another learning rate.
 */
public final class NonFiniteLossException extends RuntimeException {

    private final int iteration;

    /**
     * @param loss            the loss
     * @param iteration       1-based optimizer step that produced it
     * @param epoch           1-based epoch
     * @param iterationInEpoch 1-based step within the epoch
     * @param lastGoodIteration optimizer steps of the checkpoint on disk (−1: none)
     * @param bestEpoch       epoch of the trained tensors on disk (0: none yet)
     * @param directory       the run's directory
     */
    NonFiniteLossException(double loss, int iteration, int epoch, int iterationInEpoch, int lastGoodIteration,
                           int bestEpoch, Path directory) {
        super(String.format(Locale.ROOT, "the training loss is %s at iteration %d (epoch %d, batch %d); stopped "
                        + "without writing: %s; start again with a lower learning rate (--lr) in a new output "
                        + "directory, or check the data", loss, iteration, epoch, iterationInEpoch,
                lastGoodIteration < 0 ? directory + " holds no checkpoint yet"
                        : directory + " keeps its checkpoint of iteration " + lastGoodIteration
                        + (bestEpoch > 0 ? " and the trained tensors of epoch " + bestEpoch : "")));
        this.iteration = iteration;
    }

    /** The 1-based optimizer step whose loss was not finite. */
    public int iteration() {
        return iteration;
    }
}
