package org.sa2vp.cli;

import org.nd4j.shade.jackson.core.JsonProcessingException;
import org.sa2vp.config.ConfigSupport;
import org.sa2vp.train.AtomicFiles;
import org.sa2vp.train.Trainer;
import org.sa2vp.zoo.benchmark.Ablation;
import org.sa2vp.zoo.benchmark.Benchmark;
import org.sa2vp.zoo.benchmark.BenchmarkData;
import org.sa2vp.zoo.benchmark.BenchmarkRecipes;
import org.sa2vp.zoo.benchmark.BenchmarkResult;
import org.sa2vp.zoo.benchmark.BenchmarkTable;
import org.sa2vp.zoo.benchmark.Benchmarks;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code sa2vp ablate}: the paper's Table 5 on any registered benchmark, each run an ordinary {@code sa2vp train
 * --benchmark} with the variant's settings, then one table.
 */
@Command(name = "ablate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs the paper's Table 5 on a benchmark, a VTAB group or a whole suite: the intact SA2VP and "
                + "its four ablations (w/o spatial alignment = --global-attention, w/o prompt adapter = --no-adapter, "
                + "w/o deep prompting = --deep-prompt-layers none, w/o supervision on the prompt = --lambda 1), for "
                + "each seed (42, 43, ...). Every run is 'sa2vp train --benchmark ID' with the variant's settings, in "
                + "--out/<suite>/<name>/<variant>/seed-<s>; finished runs are skipped and interrupted ones resumed, so "
                + "the same command continues a stopped sweep. Then prints the table (as 'sa2vp table') and writes "
                + "it to --out/ablation.md."},
        footer = {"", "Examples:", "  sa2vp ablate --benchmark vtab-1k/dsprites-location --data vtab-1k/dsprites_loc "
                + "--backbone imagenet21k_ViT-B_16.npz --out runs/ablate",
                "  sa2vp ablate --benchmark minivtab --data runs/minivtab/data --backbone zoo:vit_tiny_patch4_32_fashion"
                        + " --out runs/ablate-minivtab --workers 2"})
public final class AblateCommand implements Callable<Integer> {

    @Option(names = "--benchmark", required = true, paramLabel = "SUITE|GROUP|ID", description = "what to ablate on:"
            + " one benchmark id, a VTAB group or a suite")
    String benchmark;

    @Option(names = "--data", required = true, paramLabel = "DIR", description = "the benchmark's folder; for a suite"
            + " or group, the suite's root holding each benchmark at its usual place (the registry's folder: "
            + "dsprites_loc in the vtab-1k archive, CUB_200_2011 for VPT's FGVC, FGVC/CUB_200_2011 or "
            + "torchvision_dataset/gtsrb in DAM-VP's data tree, digit_location for mini-VTAB)")
    Path data;

    @Option(names = "--backbone", required = true, paramLabel = "FILE|zoo:NAME", description = "the frozen backbone, "
            + "as for 'sa2vp train'")
    String backbone;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory")
    Path out;

    @Option(names = "--variants", split = ",", paramLabel = "V", description = "variants (default all): "
            + "intact, no-spatial-alignment, no-prompt-adapter, no-deep-prompting, no-prompt-supervision")
    List<String> variants;

    @Option(names = "--seeds", paramLabel = "N", defaultValue = "3", description = "seeds per variant: the recipe's "
            + "seed and the next ones (42, 43, ...; default 3)")
    int seeds;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "1", description = "trainings side by side, each "
            + "on one core (default 1: one at a time on all cores)")
    int workers;

    @Option(names = "--split-mode", paramLabel = "MODE", defaultValue = "trainval-test", description = "as for "
            + "'sa2vp train --benchmark' (default trainval-test)")
    String splitMode;

    @Option(names = "--epochs", paramLabel = "N", description = "epochs per run (default: the benchmark's recipe)")
    Integer epochs;

    @Option(names = "--last-epoch", description = "tabulate the last epoch's accuracy instead of the best epoch's")
    boolean lastEpoch;

    @Override
    public Integer call() {
        if (seeds < 1 || workers < 1) {
            throw new IllegalArgumentException("--seeds and --workers must be >= 1, got " + seeds + " and " + workers);
        }
        List<Benchmark> rows = TableCommand.rows(benchmark);
        List<Ablation> chosen = variants == null ? Arrays.asList(Ablation.values())
                : variants.stream().map(Ablation::of).toList();
        String mode = BenchmarkData.splitMode(splitMode).optionName();
        List<Callable<BenchmarkResult>> jobs = new ArrayList<>();
        for (Benchmark b : rows) {
            Path folder = rows.size() == 1 && !Files.isDirectory(data.resolve(b.folder())) ? data
                    : data.resolve(b.folder());
            if (!Files.isDirectory(folder)) {
                throw new IllegalArgumentException(folder + " does not exist: --data " + data + " needs a folder "
                        + b.folder() + " for " + b.id());
            }
            // Seed k is the benchmark recipe's seed (42, the authors') plus k, as in the mini-VTAB table.
            long firstSeed = BenchmarkRecipes.recipe(b).getSeed();
            for (Ablation variant : chosen) {
                for (int k = 0; k < seeds; k++) {
                    Path run = out.resolve(b.suite()).resolve(name(b)).resolve(variant.id).resolve("seed-"
                            + (firstSeed + k));
                    jobs.add(job(b, folder, variant, firstSeed + k, mode, run));
                }
            }
        }
        System.err.printf("%d runs: %d benchmark(s) x %d variant(s) x %d seed(s) in %s%n", jobs.size(), rows.size(),
                chosen.size(), seeds, out);
        List<BenchmarkResult> results = ParallelRuns.run(jobs, workers);
        StringBuilder table = new StringBuilder(BenchmarkTable.markdown(rows, results, lastEpoch));
        for (String suite : rows.stream().map(Benchmark::suite).distinct().toList()) {
            String paper = BenchmarkTable.paperAblations(Benchmarks.bundled(), suite);
            if (!paper.isEmpty()) {
                table.append("\nThe paper's Table 5 (").append(suite).append(", group means), for comparison:\n\n")
                        .append(paper);
            }
        }
        System.out.print(table);
        AtomicFiles.writeString(out.resolve("ablation.md"), table.toString());
        return 0;
    }

    /** The benchmark's name inside its suite: the id after "suite/". */
    private static String name(Benchmark b) {
        return b.id().substring(b.suite().length() + 1);
    }

    /** One run: read when finished, else trained (resumed when interrupted) by {@code sa2vp train}. */
    private Callable<BenchmarkResult> job(Benchmark b, Path folder, Ablation variant, long seed, String mode,
                                          Path run) {
        return () -> {
            Path result = run.resolve(BenchmarkResult.FILE);
            if (Files.exists(result)) {
                return BenchmarkResult.read(result);
            }
            List<String> args = new ArrayList<>(List.of("train", "--benchmark", b.id(), "--data", folder.toString(),
                    "--backbone", backbone, "--out", run.toString(), "--seed", Long.toString(seed), "--split-mode",
                    mode));
            if (epochs != null) {
                args.addAll(List.of("--epochs", epochs.toString()));
            }
            for (Map.Entry<String, Object> setting : variant.settings().entrySet()) {
                args.addAll(List.of("--set", setting.getKey() + "=" + json(setting.getValue())));
            }
            if (Files.exists(run.resolve(Trainer.STATE))) {
                args.add("--resume");
            }
            int exit = Sa2vpCli.execute(args.toArray(String[]::new));
            if (exit != 0 || !Files.exists(result)) {
                throw new IllegalStateException("'sa2vp " + String.join(" ", args) + "' ended with exit code " + exit
                        + (exit == 130 ? " (stopped; rerun this command to continue)" : ""));
            }
            return BenchmarkResult.read(result);
        };
    }

    private static String json(Object value) {
        try {
            return ConfigSupport.mapper().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
