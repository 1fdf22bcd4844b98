package org.sa2vp.zoo.benchmark;

import java.util.List;
import java.util.Locale;

/**
 * Mean and sample standard deviation (0 for one value) of accuracies in [0, 1] over seeds: a cell of every results
 * table ({@link BenchmarkTable}, the mini-VTAB report).
 *
 * @param mean the mean
 * @param std  the sample standard deviation, 0 for one value
 * @param n    how many values
 */
public record SeedSummary(double mean, double std, int n) {

    /** The summary of {@code values}. */
    public static SeedSummary of(List<Double> values) {
        double mean = values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        double ss = values.stream().mapToDouble(v -> (v - mean) * (v - mean)).sum();
        return new SeedSummary(mean, values.size() > 1 ? Math.sqrt(ss / (values.size() - 1)) : 0, values.size());
    }

    /** "86.7 ± 3.2": mean ± std in %, one decimal. */
    public String percent() {
        return String.format(Locale.ROOT, "%.1f ± %.1f", 100 * mean, 100 * std);
    }
}
