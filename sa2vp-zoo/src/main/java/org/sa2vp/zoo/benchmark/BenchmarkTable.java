package org.sa2vp.zoo.benchmark;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A table in the paper's layout assembled from finished runs ({@link BenchmarkResult}s): one row per benchmark, then
 * each VTAB group's mean and the mean over all rows; one column per method (and Table 5 variant), then the published
 * number. A cell is the mean ± sample standard deviation over the seeds found, in %, one decimal; a benchmark with no
 * finished run is {@code —}, and a mean over rows with a missing cell says how many rows it lacks instead of a
 * number, so a table of a half-finished sweep is honest about it.
 */
public final class BenchmarkTable {

    /** The label of the mean over every row. */
    public static final String ALL = "All (mean)";

    private BenchmarkTable() {
    }

    /**
     * The markdown table of {@code rows} from {@code results} (others are ignored).
     *
     * @param lastEpoch the last epoch's accuracy instead of the best epoch's (the paper's protocol)
     */
    public static String markdown(List<Benchmark> rows, List<BenchmarkResult> results, boolean lastEpoch) {
        List<String> columns = columns(rows, results);
        Map<String, Map<String, List<Double>>> cells = new LinkedHashMap<>();
        for (BenchmarkResult r : results) {
            cells.computeIfAbsent(r.benchmark(), k -> new LinkedHashMap<>())
                    .computeIfAbsent(r.column(), k -> new ArrayList<>())
                    .add(lastEpoch ? r.lastAccuracy() : r.bestAccuracy());
        }
        List<String> header = new ArrayList<>(columns);
        header.add("published");
        StringBuilder md = header("benchmark", header);
        for (Benchmark b : rows) {
            md.append("| ").append(b.id()).append(" |");
            for (String c : columns) {
                List<Double> seeds = cells.getOrDefault(b.id(), Map.of()).get(c);
                md.append(' ').append(seeds == null ? "—" : summary(seeds)).append(" |");
            }
            md.append(' ').append(b.paperVit() == null ? "—" : String.format(Locale.ROOT, "%.1f", b.paperVit()))
                    .append(" |\n");
        }
        Map<String, List<Benchmark>> means = new LinkedHashMap<>();
        for (String group : Benchmark.VTAB_GROUPS) {
            List<Benchmark> members = rows.stream().filter(b -> group.equals(b.group())).toList();
            if (!members.isEmpty() && members.size() < rows.size()) {
                means.put(group + " (mean)", members);
            }
        }
        means.put(ALL, rows);
        for (Map.Entry<String, List<Benchmark>> mean : means.entrySet()) {
            md.append("| **").append(mean.getKey()).append("** |");
            for (String c : columns) {
                md.append(' ').append(meanOfMeans(mean.getValue(), b -> {
                    List<Double> seeds = cells.getOrDefault(b.id(), Map.of()).get(c);
                    return seeds == null ? null : 100 * SeedSummary.of(seeds).mean();
                })).append(" |");
            }
            md.append(' ').append(meanOfMeans(mean.getValue(), Benchmark::paperVit)).append(" |\n");
        }
        return md.toString();
    }

    /** The CSV header of {@link #csv}. */
    public static final String CSV_HEADER = "benchmark,method,variant,split_mode,seed,epochs,best_accuracy,best_epoch,"
            + "last_accuracy";

    /**
     * Every run of {@code results} as a CSV row (accuracies in [0, 1]), sorted by benchmark, column and seed: the
     * table's data for tools. The variant is quoted, since one that names changed settings holds commas.
     */
    public static String csv(List<BenchmarkResult> results) {
        StringBuilder csv = new StringBuilder(CSV_HEADER).append('\n');
        results.stream().sorted(Comparator.comparing(BenchmarkResult::benchmark)
                        .thenComparing(BenchmarkResult::column).thenComparingLong(BenchmarkResult::seed))
                .forEach(r -> csv.append(String.format(Locale.ROOT, "%s,%s,%s,%s,%d,%d,%.6f,%d,%.6f%n", r.benchmark(),
                        r.method(), r.variant() == null ? "" : "\"" + r.variant().replace("\"", "\"\"") + "\"",
                        r.splitMode(), r.seed(), r.epochs(), r.bestAccuracy(), r.bestEpoch(), r.lastAccuracy())));
        return csv.toString();
    }

    /**
     * The paper's Table 5 for {@code suite} as markdown (a row per variant in the paper's order, the intact model last,
     * a column per group), or "" when the paper reports no ablation for the suite.
     */
    public static String paperAblations(Benchmarks registry, String suite) {
        List<ReportedAblation> ablations = registry.reportedAblations().stream()
                .filter(a -> a.suite().equals(suite)).toList();
        if (ablations.isEmpty()) {
            return "";
        }
        List<String> groups = ablations.stream().map(ReportedAblation::group).distinct().toList();
        StringBuilder md = header("variant", groups);
        for (Ablation a : Ablation.values()) {
            if (a == Ablation.INTACT) {
                continue;
            }
            md.append("| ").append(a.paperName).append(" |");
            for (String g : groups) {
                md.append(' ').append(ablations.stream().filter(r -> r.variant().equals(a.id) && r.group().equals(g))
                        .findFirst().map(r -> BenchmarksDoc.cell(r.vit())).orElse("—")).append(" |");
            }
            md.append('\n');
        }
        md.append("| ").append(Ablation.INTACT.paperName).append(" |");
        for (String g : groups) {
            md.append(' ').append(registry.reportedMeans().stream().filter(m -> m.suite().equals(suite)
                    && g.equals(m.group())).findFirst().map(m -> BenchmarksDoc.cell(m.vit())).orElse("—")).append(" |");
        }
        return md.append('\n').toString();
    }

    /**
     * The columns: SA2VP's Table 5 variants in the paper's order (intact first), then every other column in name
     * order.
     */
    static List<String> columns(List<Benchmark> rows, List<BenchmarkResult> results) {
        List<String> ids = rows.stream().map(Benchmark::id).toList();
        return results.stream().filter(r -> ids.contains(r.benchmark())).map(BenchmarkResult::column).distinct()
                .sorted(Comparator.comparingInt(BenchmarkTable::variantRank).thenComparing(c -> c)).toList();
    }

    private static int variantRank(String column) {
        for (Ablation a : Ablation.values()) {
            if (column.endsWith(" " + a.id)) {
                return a.ordinal();
            }
        }
        return Ablation.values().length;
    }

    /** A markdown table's header row and rule: {@code first}, then {@code columns}. */
    private static StringBuilder header(String first, List<String> columns) {
        StringBuilder md = new StringBuilder("| ").append(first).append(" |");
        columns.forEach(c -> md.append(' ').append(c).append(" |"));
        md.append("\n|---|");
        columns.forEach(c -> md.append("---|"));
        return md.append('\n');
    }

    private interface Value {
        Double of(Benchmark b);
    }

    /** The mean of the rows' values, or how many rows lack one. */
    private static String meanOfMeans(List<Benchmark> rows, Value value) {
        List<Double> values = rows.stream().map(value::of).filter(Objects::nonNull).toList();
        if (values.size() < rows.size()) {
            return values.isEmpty() ? "—" : String.format(Locale.ROOT, "— (%d of %d)", values.size(), rows.size());
        }
        return String.format(Locale.ROOT, "%.1f", average(values));
    }

    private static double average(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    /** "86.7 ± 3.2 (3)": mean ± sample standard deviation in % (n seeds); one seed has no spread. */
    static String summary(List<Double> seeds) {
        SeedSummary s = SeedSummary.of(seeds);
        return s.n() == 1 ? String.format(Locale.ROOT, "%.1f (1)", 100 * s.mean())
                : s.percent() + " (" + s.n() + ")";
    }
}
