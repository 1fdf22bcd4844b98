package org.sa2vp.zoo.minivtab;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.data.VtabSplit;
import org.sa2vp.data.VtabTask;
import org.sa2vp.train.AtomicFiles;
import org.sa2vp.train.Evaluation;
import org.sa2vp.train.InMemoryImages;
import org.sa2vp.train.Method;
import org.sa2vp.train.ProgressBar;
import org.sa2vp.train.Trainer;
import org.sa2vp.train.TrainingRecipe;
import org.sa2vp.train.TuningMethod;
import org.sa2vp.zoo.PretrainedTinyVit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A learning-rate and epoch sweep on the mini-VTAB <em>validation</em> split: each run trains on {@code train800}
 * and is scored on {@code val200}, so that choosing a recipe never looks at {@code test}. This is how the
 * benchmark's per-method recipes are checked (docs/MINIVTAB.md, "Why SA2VP trails VPT-deep on the natural group");
 * the command line is {@code sa2vp minivtab-sweep}.
 *
 * <p>Writes {@code out/sweep.csv} (one row per run, appended as runs finish; finished rows are skipped on a rerun).
 */
public final class MiniVtabSweep {

    /** The CSV header; a row's first five fields identify its run. */
    public static final String HEADER = "task,method,lr,epochs,seed,val_accuracy,seconds";

    private MiniVtabSweep() {
    }

    /**
     * Runs every combination that {@code out/sweep.csv} does not hold yet.
     *
     * @param data  mini-VTAB tasks in VTAB-1k layout; missing tasks are generated there
     * @param seeds seeds per combination: {@link MiniVtabBenchmark#BASE_SEED}, +1, ...
     * @return all rows of the CSV, header first
     */
    public static List<String> run(Path out, Path data, List<MiniVtab.Task> tasks, List<Method> methods,
                                   double[] lrs, int[] epochs, int seeds) throws IOException {
        Files.createDirectories(out);
        Path csv = out.resolve("sweep.csv");
        List<String> rows = new ArrayList<>(Files.exists(csv) ? Files.readAllLines(csv) : List.of(HEADER));
        if (rows.isEmpty() || !rows.get(0).equals(HEADER)) {
            throw new IllegalArgumentException(csv + " is not a sweep file: its first line must be " + HEADER);
        }
        VitCheckpoint backbone = PretrainedTinyVit.backbone();
        for (MiniVtab.Task task : tasks) {
            if (!Files.exists(data.resolve(task.folderName()).resolve("test.txt"))) {
                MiniVtab.generate(data, MiniVtab.DEFAULT_SEED, task);
            }
            VtabTask taskData = VtabTask.open(data.resolve(task.folderName()));
            InMemoryImages train = MiniVtabBenchmark.load(taskData, VtabSplit.TRAIN800);
            InMemoryImages validation = MiniVtabBenchmark.load(taskData, VtabSplit.VAL200);
            for (Method method : methods) {
                for (int runEpochs : epochs) {
                    for (double lr : lrs) {
                        for (int k = 0; k < seeds; k++) {
                            long seed = MiniVtabBenchmark.BASE_SEED + k;
                            String key = String.format(Locale.ROOT, "%s,%s,%g,%d,%d,", task.folderName(),
                                    method.label(), lr, runEpochs, seed);
                            if (rows.stream().anyMatch(r -> r.startsWith(key))) {
                                continue;
                            }
                            long start = System.nanoTime();
                            double accuracy = run(taskData, method, lr, runEpochs, seed, backbone, train,
                                    validation, out.resolve("run"));
                            double seconds = (System.nanoTime() - start) / 1e9;
                            rows.add(key + String.format(Locale.ROOT, "%.4f,%.0f", accuracy, seconds));
                            AtomicFiles.writeString(csv, String.join("\n", rows) + "\n");
                            System.out.printf(Locale.ROOT, "%s lr %g, %d epochs, seed %d: val200 %.1f%% (%.0f s)%n",
                                    task.folderName() + " " + method.label(), lr, runEpochs, seed, 100 * accuracy,
                                    seconds);
                        }
                    }
                }
            }
        }
        return rows;
    }

    /** Trains on train800 with the benchmark's recipe at learning rate {@code lr}; @return val200 accuracy. */
    private static double run(VtabTask data, Method method, double lr, int epochs, long seed, VitCheckpoint backbone,
                              InMemoryImages train, InMemoryImages validation, Path directory) {
        MiniVtabBenchmark.deleteRecursively(directory);
        TuningMethod config = MiniVtabBenchmark.method(method, backbone.config(), data.numClasses());
        TrainingRecipe recipe = MiniVtabBenchmark.recipe(method, seed, epochs).withLearningRate(lr);
        try {
            ComputationGraph graph = Trainer.newGraph(config, recipe, train.size());
            config.loadBackbone(graph, backbone);
            Trainer trainer = Trainer.start(graph, config, recipe, train, null, directory);
            trainer.progress(ProgressBar.console()).fit();
            return Evaluation.of(trainer.graph(), config, validation, recipe.effectiveEvalBatchSize()).accuracy();
        } finally {
            Nd4j.getWorkspaceManager().destroyAllWorkspacesForCurrentThread();
            MiniVtabBenchmark.deleteRecursively(directory);
        }
    }
}
