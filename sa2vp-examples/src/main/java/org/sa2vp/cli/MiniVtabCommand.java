package org.sa2vp.cli;

import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.data.VtabTask;
import org.sa2vp.train.AtomicFiles;
import org.sa2vp.train.Method;
import org.sa2vp.train.ProgressBar;
import org.sa2vp.zoo.PretrainedTinyVit;
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
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code sa2vp minivtab}: every method on every mini-VTAB task with several seeds; a results table and chart. */
@Command(name = "minivtab", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Adapts the bundled tiny ViT to every mini-VTAB task with each method the paper compares "
                + "(linear probe, VPT-shallow, VPT-deep, full fine-tuning, SA2VP), one fixed recipe per method, "
                + "training on train800val200 and testing on test, for several seeds.",
                "--out receives results.csv (one row per run; rerunning the command skips finished runs and resumes "
                        + "an interrupted one), results.md (test accuracy, mean ± std over seeds, per task, per VTAB "
                        + "group and overall), results.png (the same as a bar chart) and runs/<task>/<method>/seed-N "
                        + "(metrics.csv, curves.png, the trained tensors)."},
        footer = {"", "Example:", "  sa2vp minivtab --out runs/minivtab",
                "  sa2vp minivtab --out runs/quick --tasks digit_location --methods linear-probe,sa2vp --seeds 1 "
                        + "--epochs 2"})
public final class MiniVtabCommand implements Callable<Integer> {

    @Mixin
    MiniVtabFolders folders;

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
        List<Method> methodList = methods == null ? MiniVtabBenchmark.METHODS
                : methods.stream().map(Method::parse).toList();
        if (lrFactors != null) {
            for (double f : lrFactors) {
                if (!(f > 0)) {
                    throw new IllegalArgumentException("--lr-factors must be positive, got " + f);
                }
            }
        }
        checkSettings(runEpochs);
        VitCheckpoint backbone = PretrainedTinyVit.backbone();
        Map<MiniVtab.Task, VtabTask> taskData = folders.open(taskList);
        MiniVtabSweep.Sheet selection = lrFactors == null ? null : selectLearningRates(taskData, methodList,
                runEpochs, backbone);
        Path csv = folders.out.resolve("results.csv");
        List<MiniVtabBenchmark.Result> results = new ArrayList<>(MiniVtabReport.readCsv(csv));
        List<Callable<MiniVtabBenchmark.Result>> jobs = new ArrayList<>();
        int total = taskList.size() * methodList.size() * seeds;
        for (MiniVtab.Task task : taskList) {
            for (Method method : methodList) {
                double lr = selection == null ? defaultLearningRate(method, runEpochs)
                        : selection.bestLearningRate(task, method, runEpochs, candidates(method, runEpochs));
                for (int k = 0; k < seeds; k++) {
                    long seed = MiniVtabBenchmark.BASE_SEED + k;
                    if (results.stream().anyMatch(r -> r.task() == task && r.method() == method && r.seed() == seed)) {
                        continue;
                    }
                    String name = String.format(Locale.ROOT, "%s, %s, seed %d", task.folderName(), method.label(),
                            seed);
                    jobs.add(() -> {
                        System.out.printf(Locale.ROOT, "start %s%n", name);
                        MiniVtabBenchmark.Result result = MiniVtabBenchmark.run(task, taskData.get(task), method,
                                seed, runEpochs, lr, backbone, folders.out.resolve("runs").resolve(task.folderName())
                                        .resolve(method.label()).resolve("seed-" + seed),
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
     * Scores every candidate rate of every method on every task (train800 → val200, seed 42), as many side by side
     * as --workers, skipping those already in selection.csv; @return the scores.
     */
    private MiniVtabSweep.Sheet selectLearningRates(Map<MiniVtab.Task, VtabTask> taskData, List<Method> methodList,
                                                    int runEpochs, VitCheckpoint backbone) {
        MiniVtabSweep.Sheet sheet = new MiniVtabSweep.Sheet(folders.out.resolve("selection.csv"));
        List<Callable<MiniVtabSweep.Score>> searches = new ArrayList<>();
        for (Map.Entry<MiniVtab.Task, VtabTask> task : taskData.entrySet()) {
            List<MiniVtabSweep.Run> pending = new ArrayList<>();
            for (Method method : methodList) {
                for (double lr : candidates(method, runEpochs)) {
                    MiniVtabSweep.Run run = new MiniVtabSweep.Run(task.getKey(), method, lr, runEpochs,
                            MiniVtabBenchmark.BASE_SEED);
                    if (!sheet.has(run)) {
                        pending.add(run);
                    }
                }
            }
            MiniVtabSweep.Splits splits = pending.isEmpty() ? null : MiniVtabSweep.Splits.of(task.getValue());
            for (MiniVtabSweep.Run run : pending) {
                Path directory = folders.out.resolve("selection").resolve(task.getKey().folderName())
                        .resolve(run.method().label()).resolve("lr-" + run.learningRate());
                searches.add(() -> {
                    MiniVtabSweep.Score score = MiniVtabSweep.score(run, splits, backbone, directory, progress());
                    sheet.add(score);
                    return score;
                });
            }
        }
        if (!searches.isEmpty()) {
            System.out.printf(Locale.ROOT, "choosing learning rates on val200: %d runs%n", searches.size());
        }
        ParallelRuns.run(searches, workers);
        return sheet;
    }

    /** One run's progress: a redrawn bar when runs go one at a time, plain lines when several share the console. */
    private ProgressBar progress() {
        return workers == 1 ? ProgressBar.console() : new ProgressBar(System.err, false);
    }

    private static double defaultLearningRate(Method method, int runEpochs) {
        return MiniVtabBenchmark.recipe(method, MiniVtabBenchmark.BASE_SEED, runEpochs).getLearningRate();
    }

    /** The recipe's rate times each --lr-factors value, rounded as the sweep sheet records rates. */
    private double[] candidates(Method method, int runEpochs) {
        double base = defaultLearningRate(method, runEpochs);
        return Arrays.stream(lrFactors).map(f -> MiniVtabSweep.round(f * base)).distinct().toArray();
    }

    private String writeTables(List<MiniVtabBenchmark.Result> results, List<Method> methodList,
                               List<MiniVtab.Task> taskList, int runEpochs) {
        Map<String, Map<Method, MiniVtabReport.Summary>> table = MiniVtabReport.table(results, methodList, taskList);
        String markdown = MiniVtabReport.markdown(table, methodList);
        long seedCount = results.stream().mapToLong(MiniVtabBenchmark.Result::seed).distinct().count();
        String title = String.format(Locale.ROOT, "Mini-VTAB test accuracy (%%), %s backbone, %d epochs, mean ± std "
                + "over %d seed(s)", PretrainedTinyVit.NAME, runEpochs, seedCount);
        String rates = lrFactors == null ? "Each method's recipe (`MiniVtabBenchmark.recipe`)."
                : "Chosen per task and method on val200 among the recipe's rate times " + Arrays.toString(lrFactors)
                + " (`selection.csv`).";
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
                + (lrFactors == null ? "" : "lr-factors=" + Arrays.toString(lrFactors) + "\n");
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
