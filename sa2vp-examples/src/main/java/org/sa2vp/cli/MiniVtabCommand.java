package org.sa2vp.cli;

import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.data.VtabTask;
import org.sa2vp.method.TuningMethods;
import org.sa2vp.train.AtomicFiles;
import org.sa2vp.train.ProgressBar;
import org.sa2vp.zoo.FashionMnistBackbone;
import org.sa2vp.zoo.PretrainedTinySwin;
import org.sa2vp.zoo.PretrainedTinyVit;
import org.sa2vp.zoo.ZooBackbones;
import org.sa2vp.zoo.benchmark.SeedSummary;
import org.sa2vp.zoo.minivtab.MiniVtab;
import org.sa2vp.zoo.minivtab.MiniVtabBenchmark;
import org.sa2vp.zoo.minivtab.MiniVtabReport;
import org.sa2vp.zoo.minivtab.MiniVtabSweep;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code sa2vp minivtab}: every method on every mini-VTAB task with several seeds; a results table and chart. */
@Command(name = "minivtab", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Adapts the bundled tiny ViT to every mini-VTAB task with each method the paper compares "
                + "(linear probe, VPT-shallow, VPT-deep, full fine-tuning, SA2VP), one recipe per method (its learning "
                + "rate chosen per task on val200 with --lr-factors), training on train800val200 and testing on test, "
                + "for several seeds.",
                "--out receives results.csv (one row per run; rerunning the command skips finished runs and resumes "
                        + "an interrupted one), results.md (test accuracy, mean ± std over seeds, per task, per VTAB "
                        + "group and overall), results.png (the same as a bar chart) and "
                        + "runs/<task>/<method>/lr-<rate>/seed-N "
                        + "(metrics.csv, curves.png, the trained tensors)."},
        footer = {"", "Example:", "  sa2vp minivtab --out runs/minivtab --workers 2 --lr-factors 0.3,1,3,9",
                "  sa2vp minivtab --out runs/quick --tasks digit_location --methods linear-probe,sa2vp --seeds 1 "
                        + "--epochs 2"})
public final class MiniVtabCommand implements Callable<Integer> {

    @Mixin
    MiniVtabFolders folders;

    @Option(names = "--backbone", paramLabel = "zoo:NAME|FILE", description = "the frozen backbone for 32x32 grey "
            + "images (default " + ZooBackbones.PREFIX + PretrainedTinyVit.NAME + "; or " + ZooBackbones.PREFIX
            + PretrainedTinySwin.NAME + ", or a checkpoint file): its results need their own --out")
    String backboneName = ZooBackbones.PREFIX + PretrainedTinyVit.NAME;

    @Option(names = "--tasks", split = ",", paramLabel = "TASK", description = "tasks (default all)")
    List<String> tasks;

    @Option(names = "--methods", split = ",", paramLabel = "METHOD", description = "methods (default all): "
            + "linear-probe, vpt-shallow, vpt-deep, full-finetune, sa2vp")
    List<String> methods;

    @Option(names = "--seeds", paramLabel = "N", defaultValue = "3", description = "seeds per task and method "
            + "(42, 43, ...; default 3)")
    int seeds;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "1", description = "trainings run side by side, "
            + "each on one core (default 1: one at a time on all cores; 2 is faster for these small networks on 2 "
            + "cores)")
    int workers;

    @Option(names = "--epochs", paramLabel = "N", description = "epochs per run (default "
            + MiniVtabBenchmark.EPOCHS + "; results of different epochs cannot share --out)")
    Integer epochs;

    @Option(names = "--lr-factors", split = ",", paramLabel = "F", description = "choose each method's learning "
            + "rate per task on val200 first, as VTAB-1k does: its recipe's rate times each factor, trained on "
            + "train800 (seed 42, same epochs), highest val200 accuracy wins (scores in --out/selection.csv; the "
            + "chosen rates in results.md). Default: the recipes' rates, no search")
    double[] lrFactors;

    @Option(names = "--lr-widen", paramLabel = "N", defaultValue = "2", description = "with --lr-factors: when the "
            + "best rate is the largest (smallest) scored, also score the rate " + "3× above (below) it, at most N "
            + "times per task and method (default 2; 0: the factors only)")
    int lrWiden;

    @Option(names = "--data-only", description = "only write the task folders (into --out/data, or check --data) and "
            + "stop: the data for 'sa2vp train --benchmark minivtab/TASK --data DIR/TASK' and 'sa2vp ablate'")
    boolean dataOnly;

    /** How far past an edge of the learning-rate grid --lr-widen looks. */
    static final double WIDEN_STEP = 3;

    @Override
    public Integer call() {
        if (workers < 1) {
            throw new IllegalArgumentException("--workers must be >= 1, got " + workers);
        }
        if (seeds < 1) {
            throw new IllegalArgumentException("--seeds must be >= 1, got " + seeds);
        }
        int runEpochs = epochs != null ? epochs : MiniVtabBenchmark.EPOCHS;
        if (runEpochs < 1) {
            throw new IllegalArgumentException("--epochs must be >= 1, got " + runEpochs);
        }
        List<MiniVtab.Task> taskList = tasks == null ? Arrays.asList(MiniVtab.Task.values())
                : tasks.stream().map(MiniVtab.Task::fromFolderName).toList();
        List<String> methodList = methods == null ? MiniVtabBenchmark.METHODS
                : methods.stream().map(TuningMethods::canonicalName).toList();
        if (lrFactors != null) {
            for (double f : lrFactors) {
                if (!(f > 0)) {
                    throw new IllegalArgumentException("--lr-factors must be positive, got " + f);
                }
            }
        }
        if (lrWiden < 0) {
            throw new IllegalArgumentException("--lr-widen must be >= 0, got " + lrWiden);
        }
        if (dataOnly) {
            folders.open(taskList).forEach((task, data) -> System.out.println(data.folder()));
            return 0;
        }
        checkSettings(runEpochs);
        // The tasks are 32x32 images: a Swin file, which does not store its image size, is read at that size.
        BackboneCheckpoint backbone = ZooBackbones.read(backboneName, CheckpointOptions.defaults()
                .withImageSize(FashionMnistBackbone.IMAGE_SIZE));
        Map<MiniVtab.Task, VtabTask> taskData = folders.open(taskList);
        Map<MiniVtab.Task, Map<String, Double>> chosen = lrFactors == null ? null
                : selectLearningRates(taskData, methodList, runEpochs, backbone);
        Path csv = folders.out.resolve("results.csv");
        List<MiniVtabBenchmark.Result> results = new ArrayList<>(MiniVtabReport.readCsv(csv));
        List<Callable<MiniVtabBenchmark.Result>> jobs = new ArrayList<>();
        int total = taskList.size() * methodList.size() * seeds;
        for (MiniVtab.Task task : taskList) {
            MiniVtabBenchmark.Splits splits = null; // read once, when the task's first run is pending
            for (String method : methodList) {
                double lr = chosen == null ? defaultLearningRate(method, runEpochs) : chosen.get(task).get(method);
                for (int k = 0; k < seeds; k++) {
                    long seed = MiniVtabBenchmark.BASE_SEED + k;
                    MiniVtabBenchmark.Result done = results.stream().filter(r -> r.task() == task
                            && r.method().equals(method) && r.seed() == seed).findFirst().orElse(null);
                    if (done != null && MiniVtabSweep.sameRate(done.learningRate(), lr)) {
                        continue;
                    }
                    String name = String.format(Locale.ROOT, "%s, %s, seed %d", task.folderName(), method,
                            seed);
                    if (done != null) {
                        // More scores widened the grid since this run: its rate is no longer the chosen one.
                        System.out.printf(Locale.ROOT, "%s: the chosen rate is now %s, not %s: running it again%n",
                                name, MiniVtabReport.learningRate(lr),
                                MiniVtabReport.learningRate(done.learningRate()));
                        results.remove(done);
                    }
                    if (splits == null) {
                        splits = MiniVtabBenchmark.Splits.finals(taskData.get(task));
                    }
                    MiniVtabBenchmark.Splits taskSplits = splits;
                    jobs.add(() -> {
                        System.out.printf(Locale.ROOT, "start %s%n", name);
                        MiniVtabBenchmark.Result result = MiniVtabBenchmark.run(task, taskSplits, method,
                                seed, runEpochs, lr, backbone, folders.out.resolve("runs").resolve(task.folderName())
                                        .resolve(method).resolve("lr-" + MiniVtabReport.learningRate(lr))
                                        .resolve("seed-" + seed),
                                progress());
                        synchronized (results) {
                            results.add(result);
                            MiniVtabReport.writeCsv(csv, results);
                            writeTables(results, methodList, taskList, runEpochs);
                            System.out.printf(Locale.ROOT, "[%d/%d done] %s: test accuracy %.2f%% (%.0f s)%n",
                                    results.size(), total, name, 100 * result.accuracy(), result.seconds());
                        }
                        return result;
                    });
                }
            }
        }
        ParallelRuns.run(jobs, workers);
        String markdown = writeTables(results, methodList, taskList, runEpochs);
        System.out.println();
        System.out.print(markdown);
        System.out.println("\nwrote " + folders.out.resolve("results.md") + ", " + folders.out.resolve("results.png")
                + ", " + csv);
        return 0;
    }

    /**
     * Chooses each method's learning rate per task: scores every candidate rate (train800 → val200, seed 42), as many
     * side by side as --workers, skipping those already in selection.csv; then, up to --lr-widen times, scores one
     * more rate past the grid's edge wherever the best rate is at that edge. @return the best rate per task and method
     */
    private Map<MiniVtab.Task, Map<String, Double>> selectLearningRates(Map<MiniVtab.Task, VtabTask> taskData,
                                                                       List<String> methodList, int runEpochs,
                                                                       BackboneCheckpoint backbone) {
        MiniVtabSweep.Sheet sheet = new MiniVtabSweep.Sheet(folders.out.resolve("selection.csv"));
        Map<MiniVtab.Task, Map<String, double[]>> grids = new LinkedHashMap<>();
        for (MiniVtab.Task task : taskData.keySet()) {
            for (String method : methodList) {
                grids.computeIfAbsent(task, t -> new LinkedHashMap<>()).put(method, candidates(method, runEpochs));
            }
        }
        for (int round = 0; ; round++) {
            score(sheet, grids, taskData, runEpochs, backbone, round == 0 ? "choosing learning rates on val200"
                    : "widening the learning-rate grid where its edge scored best");
            Map<MiniVtab.Task, Map<String, Double>> chosen = new LinkedHashMap<>();
            boolean widened = false;
            for (Map.Entry<MiniVtab.Task, Map<String, double[]>> task : grids.entrySet()) {
                for (Map.Entry<String, double[]> grid : task.getValue().entrySet()) {
                    double best = sheet.bestLearningRate(task.getKey(), grid.getKey(), runEpochs, grid.getValue());
                    chosen.computeIfAbsent(task.getKey(), t -> new LinkedHashMap<>()).put(grid.getKey(), best);
                    double next = round < lrWiden ? MiniVtabSweep.widen(grid.getValue(), best, WIDEN_STEP) : Double.NaN;
                    if (!Double.isNaN(next)) {
                        double[] wider = Arrays.copyOf(grid.getValue(), grid.getValue().length + 1);
                        wider[wider.length - 1] = next;
                        grid.setValue(wider);
                        widened = true;
                    }
                }
            }
            if (!widened) {
                return chosen;
            }
        }
    }

    /** Scores the grids' rates that selection.csv does not hold yet, as many side by side as --workers. */
    private void score(MiniVtabSweep.Sheet sheet, Map<MiniVtab.Task, Map<String, double[]>> grids,
                       Map<MiniVtab.Task, VtabTask> taskData, int runEpochs, BackboneCheckpoint backbone, String what) {
        List<Callable<MiniVtabSweep.Score>> searches = new ArrayList<>();
        for (Map.Entry<MiniVtab.Task, Map<String, double[]>> task : grids.entrySet()) {
            List<MiniVtabSweep.Run> pending = new ArrayList<>();
            for (Map.Entry<String, double[]> grid : task.getValue().entrySet()) {
                for (double lr : grid.getValue()) {
                    MiniVtabSweep.Run run = new MiniVtabSweep.Run(task.getKey(), grid.getKey(), lr, runEpochs,
                            MiniVtabBenchmark.BASE_SEED);
                    if (!sheet.has(run)) {
                        pending.add(run);
                    }
                }
            }
            MiniVtabBenchmark.Splits splits = pending.isEmpty() ? null
                    : MiniVtabBenchmark.Splits.selection(taskData.get(task.getKey()));
            for (MiniVtabSweep.Run run : pending) {
                Path directory = folders.out.resolve("selection").resolve(task.getKey().folderName())
                        .resolve(run.method()).resolve("lr-" + MiniVtabReport.learningRate(run.learningRate()));
                searches.add(() -> {
                    MiniVtabSweep.Score score = MiniVtabSweep.score(run, splits, backbone, directory, progress());
                    sheet.add(score);
                    return score;
                });
            }
        }
        if (!searches.isEmpty()) {
            System.out.printf(Locale.ROOT, "%s: %d runs%n", what, searches.size());
        }
        ParallelRuns.run(searches, workers);
    }

    /** One run's progress: a redrawn bar when runs go one at a time, plain lines when several share the console. */
    private ProgressBar progress() {
        return workers == 1 ? ProgressBar.console() : new ProgressBar(System.err, false);
    }

    private static double defaultLearningRate(String method, int runEpochs) {
        return MiniVtabBenchmark.recipe(method, MiniVtabBenchmark.BASE_SEED, runEpochs).getLearningRate();
    }

    /** The recipe's rate times each --lr-factors value, rounded as the sweep sheet records rates. */
    private double[] candidates(String method, int runEpochs) {
        double base = defaultLearningRate(method, runEpochs);
        return Arrays.stream(lrFactors).map(f -> MiniVtabSweep.round(f * base)).distinct().toArray();
    }

    private String writeTables(List<MiniVtabBenchmark.Result> results, List<String> methodList,
                               List<MiniVtab.Task> taskList, int runEpochs) {
        Map<String, Map<String, SeedSummary>> table = MiniVtabReport.table(results, methodList, taskList);
        String markdown = MiniVtabReport.markdown(table, methodList);
        long seedCount = results.stream().mapToLong(MiniVtabBenchmark.Result::seed).distinct().count();
        String title = String.format(Locale.ROOT, "Mini-VTAB test accuracy (%%), %s backbone, %d epochs, mean ± std "
                + "over %d seed(s)", backboneName.replaceFirst("^" + ZooBackbones.PREFIX, ""), runEpochs, seedCount);
        String rates = lrFactors == null ? "Each method's recipe (`MiniVtabBenchmark.recipe`)."
                : "Chosen per task and method on val200 among the recipe's rate times " + Arrays.toString(lrFactors)
                + (lrWiden == 0 ? "" : ", widened " + (int) WIDEN_STEP + "× past the grid's edge up to " + lrWiden
                + " times where the edge scored best") + " (`selection.csv`).";
        AtomicFiles.writeString(folders.out.resolve("results.md"), "# " + title + "\n\n" + markdown
                + "\n## Learning rates\n\n" + rates + "\n\n"
                + MiniVtabReport.learningRates(results, methodList, taskList));
        MiniVtabReport.writeBarChart(folders.out.resolve("results.png"), table, methodList, title);
        return markdown;
    }

    /** Results of a different number of epochs must not be mixed into one table. */
    private void checkSettings(int runEpochs) {
        Path settings = folders.out.resolve("settings.txt");
        String wanted = "epochs=" + runEpochs + "\n"
                + (lrFactors == null ? "" : "lr-factors=" + Arrays.toString(lrFactors) + "\n"
                + (lrWiden == 0 ? "" : "lr-widen=" + lrWiden + "\n"));
        try {
            if (Files.exists(settings)) {
                String stored = Files.readString(settings);
                if (!stored.equals(wanted)) {
                    throw new IllegalArgumentException(folders.out + " holds results of "
                            + stored.trim().replace('\n', ' ') + "; use another --out for "
                            + wanted.trim().replace('\n', ' '));
                }
            } else {
                Files.createDirectories(folders.out);
                AtomicFiles.writeString(settings, wanted);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
