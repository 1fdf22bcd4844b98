package org.sa2vp.cli;

import org.nd4j.shade.jackson.databind.node.ArrayNode;
import org.sa2vp.config.ConfigSupport;
import org.sa2vp.zoo.benchmark.Benchmark;
import org.sa2vp.zoo.benchmark.BenchmarkSettings;
import org.sa2vp.zoo.benchmark.Benchmarks;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import static org.sa2vp.zoo.benchmark.BenchmarksDoc.cell;

/** {@code sa2vp benchmarks}: the paper's benchmark table (datasets, the authors' settings, the paper's accuracy). */
@Command(name = "benchmarks", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Prints the paper's benchmarks (FGVC, HTA, VTAB-1k): id, classes, layout, preprocessing, the "
                + "authors' ViT settings and the paper's SA2VP accuracy; '-' where no source gives a value. "
                + "Sources, licences and notes: --json or docs/BENCHMARKS-PAPER.md.",
        footer = {"", "Examples:", "  sa2vp benchmarks --group structured", "  sa2vp benchmarks --json"})
public final class BenchmarksCommand implements Callable<Integer> {

    @Option(names = "--group", paramLabel = "G",
            description = "only a suite (fgvc, hta, vtab-1k) or a VTAB-1k group (natural, specialized, structured)")
    String group;

    @Option(names = "--json", description = "the rows as a JSON array, every field, for tools")
    boolean json;

    private static final List<String> HEADER = List.of("id", "name", "classes", "layout", "preprocessing", "rank",
            "adapter", "gamma", "batch", "lr", "deep", "epochs", "ViT %", "Swin %");

    @Override
    public Integer call() {
        List<Benchmark> rows = group == null ? Benchmarks.all() : Benchmarks.group(group);
        if (json) {
            ArrayNode array = ConfigSupport.mapper().createArrayNode();
            rows.forEach(b -> array.add(b.toJson()));
            System.out.println(ConfigSupport.toPrettyJson(array));
            return 0;
        }
        List<List<String>> cells = new ArrayList<>();
        cells.add(HEADER);
        for (Benchmark b : rows) {
            BenchmarkSettings vit = b.vit();
            cells.add(List.of(b.id(), b.name(), String.valueOf(b.classes()), cell(b.layout()), cell(b.preprocessing()),
                    cell(vit.promptRank()), cell(vit.adapterWidth()), cell(vit.gamma()), cell(vit.batchSize()),
                    cell(vit.learningRate()), cell(vit.deepPromptMaps()), cell(vit.epochs()), cell(b.paperVit()),
                    cell(b.paperSwin())));
        }
        int[] widths = new int[HEADER.size()];
        for (List<String> row : cells) {
            for (int c = 0; c < widths.length; c++) {
                widths[c] = Math.max(widths[c], row.get(c).length());
            }
        }
        for (List<String> row : cells) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < widths.length; c++) {
                line.append(String.format("%-" + widths[c] + "s", row.get(c))).append(c + 1 < widths.length ? "  " : "");
            }
            System.out.println(line.toString().stripTrailing());
        }
        return 0;
    }
}
