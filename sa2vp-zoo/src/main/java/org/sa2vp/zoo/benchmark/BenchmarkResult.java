package org.sa2vp.zoo.benchmark;

import org.sa2vp.config.ConfigSupport;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.train.AtomicFiles;
import org.sa2vp.train.EpochRecord;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The outcome of one finished benchmark run, written next to its checkpoints as {@value #FILE} by
 * {@code sa2vp train --benchmark} and read back by {@code sa2vp table} and {@code sa2vp ablate}.
 *
 * <p>Two accuracies, because the authors' code reports the best epoch's accuracy on the evaluation split ("Max
 * accuracy", evaluated every epoch; on {@code test} in {@code trainval_test} mode) and that is what the paper's tables
 * hold; the last epoch's accuracy is what a run that never looks at {@code test} would report.
 *
 * @param benchmark        the registered benchmark id
 * @param method           the tuning method's registered name
 * @param variant          {@link Ablation#id} for SA2VP runs that are one of Table 5's variants; else the changed
 *                         settings ({@code "promptRank=8, gamma=0.5"}), or null for a method at its benchmark settings
 * @param splitMode        the {@link BenchmarkData.SplitMode} trained and evaluated in
 * @param seed             the recipe's seed
 * @param epochs           epochs trained
 * @param bestAccuracy     top-1 accuracy in [0, 1] of the best epoch on the evaluation split
 * @param bestEpoch        that epoch, 1-based
 * @param lastAccuracy     top-1 accuracy in [0, 1] after the last epoch
 * @param reportedAccuracy the benchmark's published accuracy in %, or null
 * @param reportedIn       where {@code reportedAccuracy} is published
 */
public record BenchmarkResult(String benchmark, String method, String variant, String splitMode, long seed,
                              int epochs, double bestAccuracy, int bestEpoch, double lastAccuracy,
                              Double reportedAccuracy, String reportedIn) {

    /** The file name in a run folder. */
    public static final String FILE = "benchmark-result.json";

    /**
     * The result of a finished run from its per-epoch history.
     *
     * @param base       the method's configuration at the benchmark's settings, which {@code configured} is compared
     *                   with to name the {@link #variant}
     * @param configured what the run trained
     * @throws IllegalArgumentException when an epoch of {@code history} was not evaluated
     */
    public static BenchmarkResult of(Benchmark benchmark, TuningMethod base, TuningMethod configured,
                                     BenchmarkData.SplitMode mode, long seed, List<EpochRecord> history) {
        EpochRecord best = null;
        for (EpochRecord e : history) {
            if (e.getValAccuracy() == null) {
                throw new IllegalArgumentException("epoch " + e.getEpoch() + " of the " + benchmark.id() + " run was "
                        + "not evaluated; a benchmark run evaluates every epoch");
            }
            if (best == null || e.getValAccuracy() > best.getValAccuracy()) {
                best = e;
            }
        }
        if (best == null) {
            throw new IllegalArgumentException("the " + benchmark.id() + " run has no finished epoch");
        }
        EpochRecord last = history.get(history.size() - 1);
        return new BenchmarkResult(benchmark.id(), configured.methodName(), variant(base, configured), mode.name(),
                seed, last.getEpoch(), best.getValAccuracy(), best.getEpoch(), last.getValAccuracy(),
                benchmark.paperVit(), benchmark.paperTable());
    }

    /**
     * How {@code configured} differs from {@code base}: an {@link Ablation} id for SA2VP, else the changed top-level
     * settings, or null when nothing changed outside SA2VP.
     */
    static String variant(TuningMethod base, TuningMethod configured) {
        Ablation ablation = Ablation.identify(base, configured);
        if (ablation != null) {
            return ablation.id;
        }
        List<String> changed = ConfigSupport.changedFields(base.toJson(), configured.toJson()).stream()
                .map(c -> c.field() + "=" + c.to()).toList();
        return changed.isEmpty() ? null : String.join(", ", changed);
    }

    /** The column a table files this run under: the method, and the variant when there is one. */
    public String column() {
        return variant == null ? method : method + " " + variant;
    }

    /** One line in the paper's format (accuracy in %, one decimal), with the published number beside it. */
    public String paperLine() {
        return String.format(Locale.ROOT, "%s %s seed %d: %.1f (best of %d epochs, at %d: the paper's protocol); "
                        + "%.1f after the last epoch; %s", benchmark, column(), seed, 100 * bestAccuracy, epochs,
                bestEpoch, 100 * lastAccuracy, reportedAccuracy == null ? "no published number"
                        : String.format(Locale.ROOT, "published %.1f (%s)", reportedAccuracy, reportedIn));
    }

    /** Writes {@link #FILE} into {@code runDirectory}, atomically. */
    public void write(Path runDirectory) {
        AtomicFiles.writeString(runDirectory.resolve(FILE), ConfigSupport.toPrettyJson(this) + "\n");
    }

    /** Reads a {@link #FILE}; a one-line error names the file. */
    public static BenchmarkResult read(Path file) {
        try {
            return ConfigSupport.mapper().readValue(file.toFile(), BenchmarkResult.class);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": not a benchmark result (" + e.getMessage().lines()
                    .findFirst().orElse("") + ")");
        }
    }

    /** Every {@link #FILE} below {@code runs}, in path order. */
    public static List<Path> findAll(Path runs) {
        if (!Files.isDirectory(runs)) {
            throw new IllegalArgumentException(runs + " is not a folder of benchmark runs");
        }
        try (Stream<Path> files = Files.walk(runs)) {
            return files.filter(p -> p.getFileName().toString().equals(FILE)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + runs + ": " + e.getMessage(), e);
        }
    }
}
