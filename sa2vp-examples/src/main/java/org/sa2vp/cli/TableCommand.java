package org.sa2vp.cli;

import org.sa2vp.train.AtomicFiles;
import org.sa2vp.train.Trainer;
import org.sa2vp.zoo.benchmark.Benchmark;
import org.sa2vp.zoo.benchmark.BenchmarkData;
import org.sa2vp.zoo.benchmark.BenchmarkResult;
import org.sa2vp.zoo.benchmark.BenchmarkTable;
import org.sa2vp.zoo.benchmark.Benchmarks;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/** {@code sa2vp table}: a suite's or group's table in the paper's layout from the finished runs in a folder. */
@Command(name = "table", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Assembles the paper's table for a suite (fgvc, hta, vtab-1k, minivtab), a VTAB group or one "
                + "benchmark from the finished runs below --runs (every " + BenchmarkResult.FILE + " that 'sa2vp "
                + "train --benchmark' and 'sa2vp ablate' write): a row per benchmark, the group means and the mean "
                + "over all rows; a column per method or Table 5 variant, mean ± std over seeds (n), and the published"
                + " number. A missing cell is '—', a mean lacking rows says how many it has; unfinished runs are "
                + "listed below the table, so it can be printed at any time while a sweep runs and again when the "
                + "runs are resumed and finished."},
        footer = {"", "Examples:", "  sa2vp table --benchmark vtab-1k --runs runs/vtab",
                "  sa2vp table --benchmark minivtab --runs runs/ablate --last-epoch"})
public final class TableCommand implements Callable<Integer> {

    @Option(names = "--benchmark", required = true, paramLabel = "SUITE|GROUP|ID", description = "the rows: a suite, "
            + "a VTAB group (natural, specialized, structured) or one benchmark id")
    String benchmark;

    @Option(names = "--runs", required = true, paramLabel = "DIR", description = "folder searched for finished runs, "
            + "at any depth")
    Path runs;

    @Option(names = "--split-mode", paramLabel = "MODE", defaultValue = "trainval-test", description = "the runs' "
            + "split mode: trainval-test (default, the reported numbers) or train-val")
    String splitMode;

    @Option(names = "--last-epoch", description = "the last epoch's accuracy instead of the best epoch's (the "
            + "paper's protocol, which picks the epoch on the evaluation split)")
    boolean lastEpoch;

    @Option(names = "--out", paramLabel = "FILE", description = "also write the table to this markdown file")
    Path out;

    @Option(names = "--csv", paramLabel = "FILE", description = "also write every run of the table (one row per "
            + "benchmark, method/variant and seed; accuracies in [0, 1]) to this CSV file")
    Path csv;

    @Override
    public Integer call() {
        List<Benchmark> rows = rows(benchmark);
        String mode = BenchmarkData.splitMode(splitMode).name();
        List<BenchmarkResult> results = new ArrayList<>();
        for (Path file : BenchmarkResult.findAll(runs)) {
            BenchmarkResult r = BenchmarkResult.read(file);
            if (r.splitMode().equals(mode)) {
                results.add(r);
            }
        }
        String table = BenchmarkTable.markdown(rows, results, lastEpoch);
        StringBuilder text = new StringBuilder(table);
        List<String> unfinished = unfinished(runs);
        if (!unfinished.isEmpty()) {
            text.append("\nUnfinished runs (resume each with its train command and --resume):\n");
            unfinished.forEach(u -> text.append("- ").append(u).append('\n'));
        }
        System.out.print(text);
        if (out != null) {
            AtomicFiles.writeString(out, text.toString());
        }
        if (csv != null) {
            List<String> ids = rows.stream().map(Benchmark::id).toList();
            AtomicFiles.writeString(csv, BenchmarkTable.csv(results.stream().filter(r -> ids.contains(r.benchmark()))
                    .toList()));
        }
        return 0;
    }

    /** A suite's or group's rows, or the one benchmark named. */
    static List<Benchmark> rows(String name) {
        Benchmarks registry = Benchmarks.bundled();
        return registry.groupNames().contains(name) ? registry.inGroup(name) : List.of(registry.benchmark(name));
    }

    /** Run folders below {@code runs} with a training state but no result yet. */
    static List<String> unfinished(Path runs) {
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(runs)) {
            for (Path state : files.filter(p -> p.getFileName().toString().equals(Trainer.STATE)).sorted().toList()) {
                Path dir = state.getParent();
                if (!Files.exists(dir.resolve(BenchmarkResult.FILE))) {
                    found.add(dir.toString());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + runs + ": " + e.getMessage(), e);
        }
        return found;
    }
}
