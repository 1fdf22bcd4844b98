package org.sa2vp.zoo.benchmark;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Writes {@code docs/BENCHMARKS-PAPER.md} from the benchmark table, so the document never restates a fact by hand;
 * {@code BenchmarksDocTest} fails when the committed document differs from {@link #markdown(Benchmarks)}.
 */
public final class BenchmarksDoc {

    /** The document's path relative to the repository root. */
    public static final String PATH = "docs/BENCHMARKS-PAPER.md";

    private BenchmarksDoc() {
    }

    /**
     * Writes the document: {@code java ... org.sa2vp.zoo.benchmark.BenchmarksDoc [FILE]}, FILE defaulting to
     * {@value #PATH} under the working directory.
     */
    public static void main(String[] args) throws IOException {
        Path file = Path.of(args.length > 0 ? args[0] : PATH);
        Files.writeString(file, markdown(Benchmarks.bundled()), StandardCharsets.UTF_8);
        System.out.println("wrote " + file);
    }

    /** The whole document for {@code table}. */
    public static String markdown(Benchmarks table) {
        StringBuilder md = new StringBuilder();
        md.append("# The paper's benchmarks\n\n");
        md.append("<!-- Generated from sa2vp-zoo/src/main/resources/org/sa2vp/zoo/benchmark/benchmarks.json by\n")
                .append("     org.sa2vp.zoo.benchmark.BenchmarksDoc; edit the table, not this file (BenchmarksDocTest fails on a\n")
                .append("     difference). Regenerate: mvn -B -o test -Dtest=BenchmarksDocTest -Dsa2vp.writeDocs=true -->\n\n");
        md.append("Every dataset of SA2VP's Tables 1-4 (FGVC, HTA, VTAB-1k): where to get it, the authors' settings and the\n")
                .append("paper's accuracy. `sa2vp benchmarks` prints the same table (`--json` for tools, `--group` to filter).\n\n");
        md.append("**Nothing can be downloaded from here**: this project's machines reach Maven Central, Debian and npm only.\n")
                .append("Fetch the data and the checkpoint yourself from the sources below, then point the commands at the files.\n\n");
        md.append("## Backbone checkpoints the paper uses\n\n")
                .append("- ViT-B/16 pretrained on ImageNet-21k: Google's original `imagenet21k_ViT-B_16.npz` (the VPT \"ViT-B/16\n")
                .append("  supervised\" checkpoint), read by `--backbone FILE.npz`.\n")
                .append("- Swin-B pretrained on ImageNet-22k: Microsoft's `swin_base_patch4_window7_224_22k.pth` (Swin Transformer\n")
                .append("  release; used by the paper for VTAB-1k only, Table 4).\n\n");
        md.append("## Where the values come from\n\n");
        for (Map.Entry<String, String> e : table.provenance().entrySet()) {
            md.append("- `").append(e.getKey()).append("`: ").append(e.getValue()).append('\n');
        }
        md.append("\nA `-` is a value no source gives (the row's note says why); nothing is filled in by guess.\n");
        for (String suite : Benchmark.SUITES) {
            List<Benchmark> rows = table.inGroup(suite);
            md.append("\n## ").append(suite).append(" (").append(rows.size()).append(" datasets, ")
                    .append(rows.get(0).paperTable()).append(")\n\n");
            md.append("| id | name | group | classes | layout | preprocessing | ViT rank / adapter / γ / batch / lr / deep maps / epochs | Swin rank / adapter / γ / deep maps | paper ViT | paper Swin |\n")
                    .append("|---|---|---|---|---|---|---|---|---|---|\n");
            for (Benchmark b : rows) {
                md.append("| `").append(b.id()).append("` | ").append(b.name()).append(" | ").append(cell(b.group()))
                        .append(" | ").append(b.classes()).append(" | ")
                        .append(b.layout() == null ? "-" : "`" + b.layout().name() + "`").append(" | ")
                        .append(b.preprocessing() == null ? "-" : "`" + b.preprocessing() + "`").append(" | ")
                        .append(settings(b.vit(), true)).append(" | ")
                        .append(b.swin() == null ? "-" : settings(b.swin(), false)).append(" | ")
                        .append(cell(b.paperVit())).append(" | ").append(cell(b.paperSwin())).append(" |\n");
            }
            md.append("\nReported means: ");
            StringBuilder means = new StringBuilder();
            for (ReportedMean mean : table.reportedMeans()) {
                if (mean.suite().equals(suite)) {
                    means.append(means.length() == 0 ? "" : "; ").append(mean.label()).append(" ViT ")
                            .append(cell(mean.vit())).append(", Swin ").append(cell(mean.swin()))
                            .append(" (").append(mean.paperTable()).append(")");
                }
            }
            md.append(means.length() == 0 ? "none" : means).append(".\n\n");
            String ablations = BenchmarkTable.paperAblations(table, suite);
            if (!ablations.isEmpty()) {
                md.append("Reported ablations (Table 5, SA2VP-ViT group means; `sa2vp ablate` runs the same variants):\n\n")
                        .append(ablations).append('\n');
            }
            md.append("| id | folder | source | licence | notes |\n|---|---|---|---|---|\n");
            for (Benchmark b : rows) {
                md.append("| `").append(b.id()).append("` | `").append(b.folder()).append("` | ").append(b.source()).append(" | ").append(b.licence())
                        .append(" | ").append(cell(b.notes())).append(" |\n");
            }
        }
        md.append("\n## Commands\n\n")
                .append("One table cell is one command. It reads the benchmark's split files from `--data`, checks the class count\n")
                .append("before decoding an image, uses the row's preprocessing, SA2VP settings and recipe, evaluates every epoch,\n")
                .append("and writes `benchmark-result.json`: the best epoch's accuracy (the paper's protocol), the last epoch's,\n")
                .append("and the paper's number. Options given on top (`--rank`, `--lr`, `--epochs`, `--method linear-probe`, ...)\n")
                .append("change the run. `--split-mode train-val` trains on train800 (FGVC: train) and evaluates on val200 (val)\n")
                .append("to choose settings; the default `trainval-test` is the protocol of the reported numbers.\n\n")
                .append("```\n")
                .append("sa2vp train --benchmark vtab-1k/dsprites-location --data vtab-1k/dsprites_loc \\\n")
                .append("    --backbone imagenet21k_ViT-B_16.npz --out runs/vtab/dsprites-location\n")
                .append("sa2vp table --benchmark vtab-1k --runs runs/vtab         # Table 3 from finished runs, gaps shown\n")
                .append("sa2vp ablate --benchmark vtab-1k --data vtab-1k --backbone imagenet21k_ViT-B_16.npz --out runs/ablate\n")
                .append("```\n\n")
                .append("`sa2vp ablate` runs Table 5: the intact model and its four ablations (`--global-attention`,\n")
                .append("`--no-adapter`, `--deep-prompt-layers none`, `--lambda 1`) for each seed, each an ordinary\n")
                .append("`train --benchmark` run; for a suite, `--data` is the suite's root, holding each benchmark at its\n")
                .append("`folder` above.");
        String unread = table.rows().stream().filter(b -> b.layout() == null).map(b -> "`" + b.id() + "`")
                .collect(Collectors.joining(", "));
        md.append(unread.isEmpty() ? " Every benchmark has a reader.\n"
                : " No reader exists yet for " + unread + " (their `layout` is `-`).\n");
        return md.toString();
    }

    private static String settings(BenchmarkSettings s, boolean full) {
        String common = cell(s.promptRank()) + " / " + cell(s.adapterWidth()) + " / " + cell(s.gamma());
        return full
                ? common + " / " + cell(s.batchSize()) + " / " + cell(s.learningRate()) + " / "
                + cell(s.deepPromptMaps()) + " / " + cell(s.epochs())
                : common + " / " + cell(s.deepPromptMaps());
    }

    /** A table cell, in the document and in {@code sa2vp benchmarks}: {@code -} for a value no source gives, decimals in plain notation (0.001, not 1.0E-3). */
    public static String cell(Object value) {
        if (value == null) {
            return "-";
        }
        if (value instanceof Double d) {
            return BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
        }
        return value.toString();
    }
}
