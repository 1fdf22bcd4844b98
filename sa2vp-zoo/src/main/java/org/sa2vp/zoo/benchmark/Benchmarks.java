package org.sa2vp.zoo.benchmark;

import org.nd4j.shade.jackson.databind.JsonNode;
import org.sa2vp.config.ConfigSupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Collectors;

/**
 * The registry of the paper's benchmarks: FGVC (Table 1), HTA (Table 2) and VTAB-1k (Tables 3 and 4), one row per
 * dataset with its class count, layout, preprocessing, the authors' settings, the paper's accuracy and the data's
 * source. The one place these facts live is the bundled {@code benchmarks.json}; this class reads and validates it,
 * and {@code docs/BENCHMARKS-PAPER.md} is generated from it ({@link BenchmarksDoc}). Rows of other suites, such as
 * mini-VTAB, come from registered {@link BenchmarkSource}s and follow the paper's.
 */
public final class Benchmarks {

    /** The bundled table's resource name, next to this class. */
    public static final String RESOURCE = "benchmarks.json";

    private static final List<String> TOP_FIELDS = List.of("provenance", "reportedMeans", "reportedAblations",
            "benchmarks");

    private static final Benchmarks BUNDLED = load().withSources(ServiceLoader.load(BenchmarkSource.class,
            Benchmarks.class.getClassLoader()));

    private final Map<String, Benchmark> byId;
    private final List<ReportedMean> reportedMeans;
    private final List<ReportedAblation> reportedAblations;
    private final Map<String, String> provenance;

    private Benchmarks(Map<String, Benchmark> byId, List<ReportedMean> reportedMeans,
                       List<ReportedAblation> reportedAblations, Map<String, String> provenance) {
        this.byId = byId;
        this.reportedMeans = reportedMeans;
        this.reportedAblations = reportedAblations;
        this.provenance = provenance;
    }

    private static Benchmarks load() {
        try (InputStream in = Benchmarks.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the bundled " + RESOURCE + " is missing from the sa2vp-zoo jar");
            }
            return parse(ConfigSupport.mapper().readTree(in), RESOURCE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the bundled " + RESOURCE + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads and validates a benchmark table; {@code file} names it in errors. Fails in one line naming the row and
     * the field, or the duplicated id.
     */
    static Benchmarks parse(JsonNode table, String file) {
        new TableReader.Field(file, null).onlyFields(table, TOP_FIELDS);
        JsonNode rows = table.get("benchmarks");
        ConfigSupport.check(rows != null && rows.isArray() && !rows.isEmpty(), file, "benchmarks",
                "a non-empty array", rows);
        Map<String, Benchmark> byId = new LinkedHashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            Benchmark benchmark = Benchmark.read(rows.get(i), file, i);
            ConfigSupport.check(!byId.containsKey(benchmark.id()), file + " benchmark #" + i, "id", "unique",
                    benchmark.id() + " (also row #" + new ArrayList<>(byId.keySet()).indexOf(benchmark.id()) + ")");
            byId.put(benchmark.id(), benchmark);
        }
        List<ReportedMean> means = new ArrayList<>();
        JsonNode meanRows = table.get("reportedMeans");
        ConfigSupport.check(meanRows != null && meanRows.isArray(), file, "reportedMeans", "an array", meanRows);
        for (int i = 0; i < meanRows.size(); i++) {
            means.add(ReportedMean.read(meanRows.get(i), file, i));
        }
        List<ReportedAblation> ablations = new ArrayList<>();
        JsonNode ablationRows = table.get("reportedAblations");
        if (ablationRows != null) {
            ConfigSupport.check(ablationRows.isArray(), file, "reportedAblations", "an array", ablationRows);
            for (int i = 0; i < ablationRows.size(); i++) {
                ablations.add(ReportedAblation.read(ablationRows.get(i), file, i));
            }
        }
        Map<String, String> provenance = new LinkedHashMap<>();
        JsonNode provenanceNode = table.get("provenance");
        ConfigSupport.check(provenanceNode != null && provenanceNode.isObject(), file, "provenance",
                "an object of field name to text", provenanceNode);
        for (Iterator<Map.Entry<String, JsonNode>> it = provenanceNode.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            ConfigSupport.check(Benchmark.FIELDS.contains(e.getKey()), file, "provenance",
                    "keyed by the row fields " + Benchmark.FIELDS, "'" + e.getKey() + "'");
            provenance.put(e.getKey(), new TableReader.Field(file, "provenance." + e.getKey())
                    .text(provenanceNode));
        }
        return new Benchmarks(byId, List.copyOf(means), List.copyOf(ablations), provenance);
    }

    /**
     * This table followed by the rows of {@code sources}, in their order.
     *
     * @throws IllegalArgumentException naming the source, for an id that is taken or not {@code suite/name}, or a
     *                                  suite the paper's table or an earlier source already has
     */
    Benchmarks withSources(Iterable<BenchmarkSource> sources) {
        Map<String, Benchmark> all = new LinkedHashMap<>(byId);
        for (BenchmarkSource source : sources) {
            String name = source.getClass().getName();
            List<String> takenSuites = all.values().stream().map(Benchmark::suite).distinct().toList();
            for (Benchmark b : source.benchmarks()) {
                ConfigSupport.check(!takenSuites.contains(b.suite()), name, "suite", "a suite of its own (taken: "
                        + takenSuites + ")", b.suite());
                ConfigSupport.check(b.id().matches("[a-z0-9_-]+/[a-z0-9_-]+") && b.id().startsWith(b.suite() + "/"),
                        name, "id", "'" + b.suite() + "/' and lower-case letters, digits, '_' and '-'", b.id());
                ConfigSupport.check(!all.containsKey(b.id()), name, "id", "unique", b.id());
                all.put(b.id(), b);
            }
        }
        return new Benchmarks(all, reportedMeans, reportedAblations, provenance);
    }

    /** The bundled registry: the paper's table, then every registered {@link BenchmarkSource}'s rows. */
    public static Benchmarks bundled() {
        return BUNDLED;
    }

    /** Every bundled benchmark: the paper's in its order, then the registered sources'. */
    public static List<Benchmark> all() {
        return BUNDLED.rows();
    }

    /** The bundled benchmark {@code id}; see {@link #benchmark(String)}. */
    public static Benchmark get(String id) {
        return BUNDLED.benchmark(id);
    }

    /** The bundled benchmarks of a suite or VTAB-1k group; see {@link #inGroup(String)}. */
    public static List<Benchmark> group(String suiteOrGroup) {
        return BUNDLED.inGroup(suiteOrGroup);
    }

    /** Every row, in the table's order. */
    public List<Benchmark> rows() {
        return List.copyOf(byId.values());
    }

    /**
     * The benchmark with this id.
     *
     * @throws IllegalArgumentException for an unknown id, listing the nearest ids
     */
    public Benchmark benchmark(String id) {
        Benchmark benchmark = byId.get(id);
        if (benchmark == null) {
            throw new IllegalArgumentException("unknown benchmark '" + id + "'; nearest: "
                    + String.join(", ", nearest(id, 3)) + " (sa2vp benchmarks lists all " + byId.size() + ")");
        }
        return benchmark;
    }

    /**
     * The rows of a suite ({@code fgvc}, {@code hta}, {@code vtab-1k}, or a registered source's, such as
     * {@code minivtab}) or of a VTAB group ({@code natural}, {@code specialized}, {@code structured}: of every suite
     * that has the group).
     *
     * @throws IllegalArgumentException naming the known suites and groups
     */
    public List<Benchmark> inGroup(String suiteOrGroup) {
        if (!groupNames().contains(suiteOrGroup)) {
            throw new IllegalArgumentException("unknown benchmark group '" + suiteOrGroup + "', expected one of "
                    + groupNames());
        }
        return byId.values().stream()
                .filter(b -> b.suite().equals(suiteOrGroup) || suiteOrGroup.equals(b.group())).toList();
    }

    /** The names {@link #inGroup(String)} knows: the suites in table order, then the VTAB groups. */
    public List<String> groupNames() {
        List<String> names = new ArrayList<>(suites());
        names.addAll(Benchmark.VTAB_GROUPS);
        return names;
    }

    /** The suites that have rows, in table order. */
    public List<String> suites() {
        return byId.values().stream().map(Benchmark::suite).distinct().toList();
    }

    /** The paper's reported means per suite or VTAB-1k group (the only Swin numbers it gives). */
    public List<ReportedMean> reportedMeans() {
        return reportedMeans;
    }

    /** The paper's group means of Table 5's ablated variants (the intact row is {@link #reportedMeans()}). */
    public List<ReportedAblation> reportedAblations() {
        return reportedAblations;
    }

    /** Where each column's values come from, keyed by the row field name. */
    public Map<String, String> provenance() {
        return provenance;
    }

    /**
     * The {@code count} ids nearest to {@code query}: by edit distance to the id's start (so a shortened id such as
     * {@code cub} or {@code vtab-1k/dsprites-loc} finds its completions), then to the whole id; the part after the
     * suite counts as an id too. Ties keep the table's order.
     */
    List<String> nearest(String query, int count) {
        return byId.keySet().stream()
                .sorted(Comparator.comparingInt((String id) -> distance(query, id, true))
                        .thenComparingInt(id -> distance(query, id, false)))
                .limit(count).collect(Collectors.toList());
    }

    private static int distance(String query, String id, boolean prefix) {
        String tail = id.substring(id.indexOf('/') + 1);
        return Math.min(levenshtein(query, prefix ? start(id, query.length()) : id),
                levenshtein(query, prefix ? start(tail, query.length()) : tail));
    }

    private static String start(String text, int length) {
        return text.substring(0, Math.min(length, text.length()));
    }

    /** Edit distance (insertions, deletions, substitutions), the textbook two-row dynamic programme. */
    static int levenshtein(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
