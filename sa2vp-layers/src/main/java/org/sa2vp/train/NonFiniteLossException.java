package org.sa2vp.train;

import java.nio.file.Path;
import java.util.Locale;

/**
 * The training loss became NaN or infinite, so the {@link Trainer} stopped before writing anything: the run's
 * directory still holds the last good checkpoint ({@code last.zip}, {@code state.json}) and the best network and
 * trained tensors, and resuming continues from there (with a lower learning rate, say).
 */
public final class NonFiniteLossException extends RuntimeException {

    private final int iteration;

    /**
     * @param loss            the loss
     * @param iteration       1-based optimizer step that produced it
     * @param epoch           1-based epoch
     * @param iterationInEpoch 1-based step within the epoch
     * @param lastGoodIteration optimizer steps done before it
     * @param bestEpoch       epoch of the trained tensors on disk (0: none yet)
     * @param directory       the run's directory
     */
    NonFiniteLossException(double loss, int iteration, int epoch, int iterationInEpoch, int lastGoodIteration,
                           int bestEpoch, Path directory) {
        super(String.format(Locale.ROOT, "the training loss is %s at iteration %d (epoch %d, batch %d); stopped "
                        + "without writing: %s keeps the last good checkpoint%s; lower the learning rate (--lr) or "
                        + "check the data, then resume or start again", loss, iteration, epoch, iterationInEpoch,
                directory, bestEpoch > 0 ? " and the trained tensors of epoch " + bestEpoch : ""));
        this.iteration = iteration;
    }

    /** The 1-based optimizer step whose loss was not finite. */
    public int iteration() {
        return iteration;
    }
}
