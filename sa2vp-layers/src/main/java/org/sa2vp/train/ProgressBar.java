package org.sa2vp.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Console progress of a training run. On a terminal ({@code System.console() != null}) one line is redrawn with
 * {@code \r}: {@code epoch 3/100 [#####.....] 7/15 loss 1.2345 lr 3.2e-04 1.9 s/it ETA 1:02:03}. Otherwise (logs,
 * pipes, tests) it prints plain lines: one at most every {@link #PLAIN_INTERVAL_SECONDS} seconds during an epoch,
 * and always one per finished epoch.
 */
public final class ProgressBar {

    public static final double PLAIN_INTERVAL_SECONDS = 30;
    private static final int BAR_WIDTH = 24;

    private final PrintStream out;
    private final boolean interactive;
    private final long sessionStart = System.nanoTime();
    private int sessionIterations;
    private long lastPlainLine = System.nanoTime();
    private int lastLength;

    /** @param interactive redraw one line (a terminal), or print plain lines */
    public ProgressBar(PrintStream out, boolean interactive) {
        this.out = out;
        this.interactive = interactive;
    }

    /** A progress bar on stderr, redrawn when stderr is a terminal. */
    public static ProgressBar console() {
        return new ProgressBar(System.err, System.console() != null);
    }

    /** Seconds per iteration so far in this session (training, evaluation and checkpoints), or NaN. */
    public double secondsPerIteration() {
        return sessionIterations == 0 ? Double.NaN : (System.nanoTime() - sessionStart) / 1e9 / sessionIterations;
    }

    /**
     * After an iteration.
     *
     * @param iterationInEpoch 1-based iterations done in this epoch
     * @param remaining        iterations left in the whole run
     */
    public void iteration(int epoch, int epochs, int iterationInEpoch, int iterationsPerEpoch, double loss, double lr,
                          int remaining) {
        sessionIterations++;
        double perIteration = secondsPerIteration();
        String text = String.format(Locale.ROOT, "epoch %d/%d %s %d/%d loss %.4f lr %.2e %s ETA %s", epoch, epochs,
                bar(iterationInEpoch, iterationsPerEpoch), iterationInEpoch, iterationsPerEpoch, loss, lr,
                rate(perIteration), duration(perIteration * remaining));
        if (interactive) {
            redraw(text);
        } else if ((System.nanoTime() - lastPlainLine) / 1e9 >= PLAIN_INTERVAL_SECONDS) {
            out.println(text);
            lastPlainLine = System.nanoTime();
        }
    }

    /** A permanent line (an epoch summary, a message); clears the redrawn line first. */
    public void line(String text) {
        if (interactive && lastLength > 0) {
            out.print("\r" + " ".repeat(lastLength) + "\r");
            lastLength = 0;
        }
        out.println(text);
        out.flush();
        lastPlainLine = System.nanoTime();
    }

    private void redraw(String text) {
        int pad = Math.max(0, lastLength - text.length());
        out.print("\r" + text + " ".repeat(pad));
        out.flush();
        lastLength = text.length();
    }

    static String bar(int done, int total) {
        int filled = total == 0 ? BAR_WIDTH : (int) ((long) done * BAR_WIDTH / total);
        return "[" + "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled) + "]";
    }

    static String rate(double secondsPerIteration) {
        if (!Double.isFinite(secondsPerIteration)) {
            return "-";
        }
        return secondsPerIteration >= 1 ? String.format(Locale.ROOT, "%.1f s/it", secondsPerIteration)
                : String.format(Locale.ROOT, "%.1f it/s", 1 / Math.max(secondsPerIteration, 1e-9));
    }

    /** {@code h:mm:ss}, or {@code m:ss} under an hour. */
    static String duration(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0) {
            return "-";
        }
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
