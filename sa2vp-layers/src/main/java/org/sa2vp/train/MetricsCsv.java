package org.sa2vp.train;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * {@code metrics.csv}: one row per finished epoch, rewritten whole (atomically) from the run's history, so that
 * a resumed run's file is exactly what an uninterrupted run would have written. Validation columns are empty for
 * epochs that were not evaluated.
 */
public final class MetricsCsv {

    public static final String HEADER = "epoch,iteration,lr,train_loss,val_loss,val_accuracy,seconds";

    private MetricsCsv() {
    }

    public static String format(List<EpochRecord> history) {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        for (EpochRecord r : history) {
            sb.append(String.format(Locale.ROOT, "%d,%d,%.6e,%.6f,%s,%s,%.1f\n", r.getEpoch(), r.getIteration(),
                    r.getLearningRate(), r.getTrainLoss(),
                    r.getValLoss() == null ? "" : String.format(Locale.ROOT, "%.6f", r.getValLoss()),
                    r.getValAccuracy() == null ? "" : String.format(Locale.ROOT, "%.6f", r.getValAccuracy()),
                    r.getSeconds()));
        }
        return sb.toString();
    }

    public static void write(Path file, List<EpochRecord> history) {
        AtomicFiles.writeString(file, format(history));
    }
}
