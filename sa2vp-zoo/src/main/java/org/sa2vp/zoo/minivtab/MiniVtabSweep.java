package org.sa2vp.zoo.minivtab;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.data.InMemoryImages;
import org.sa2vp.data.VtabTask;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.method.TuningMethods;
import org.sa2vp.train.AtomicFiles;
import org.sa2vp.train.EvaluationResult;
import org.sa2vp.train.ProgressBar;
import org.sa2vp.train.Trainer;
import org.sa2vp.train.TrainingRecipe;
import org.sa2vp.zoo.PretrainedTinyVit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Learning rates and epoch counts scored on the mini-VTAB <em>validation</em> split: each run trains on
 * {@code train800} and is scored on {@code val200}, so that choosing a recipe never looks at {@code test} (VTAB-1k's
 * protocol). {@code sa2vp minivtab-sweep} runs a grid of them; {@code sa2vp minivtab --lr-factors} uses them to
 * choose each method's learning rate per task before its final runs.
 *
 * <p>Scores are kept in a CSV ({@link Sheet}), one row per run, rewritten atomically as runs finish, so a stopped
 * sweep resumes where it was.
 */
public final class MiniVtabSweep {

    /** The CSV header; a row's first five fields identify its run. */
    public static final String HEADER = "task,method,lr,epochs,seed,val_accuracy,seconds";

    /** One validation run. */
    public record Run(MiniVtab.Task task, String method, double learningRate, int epochs, long seed) {
        /** The row prefix that identifies the run in a {@link Sheet}. */
        String key() {
            return String.format(Locale.ROOT, "%s,%s,%s,%d,%d,", task.folderName(), method,
                    rate(learningRate), epochs, seed);
        }
    }

    /** A learning rate as the sheet writes it (six significant digits), so that 3 × 0.01 is the row 0.03. */
    static String rate(double lr) {
        return String.format(Locale.ROOT, "%g", lr);
    }

    /** {@code lr} rounded as the sheet writes it: 3 × 0.01 becomes 0.03, the rate a row of 0.03 reads back as. */
    public static double round(double lr) {
        return Double.parseDouble(rate(lr));
    }

    /** Whether two rates are the same row of the sheet (equal to six significant digits). */
    public static boolean sameRate(double a, double b) {
        return rate(a).equals(rate(b));
    }

    /**
     * The next candidate past an edge of the grid, or none: a grid whose best rate is its largest (smallest) is
     * widened by one rate {@code step} times above (below) it, so that the choice is not capped by where the grid
     * happened to end. {@link Sheet#bestLearningRate} gives a tie to the smaller rate, so a tie between the two
     * largest rates does not widen the grid upwards.
     *
     * @param candidates the rates scored so far (any order)
     * @param best       the best of them
     * @param step       the factor between the edge and the new rate, {@code > 1}
     * @return the rate to score next (rounded as the sheet records it), or {@code NaN} when {@code best} is inside
     */
    public static double widen(double[] candidates, double best, double step) {
        if (!(step > 1)) {
            throw new IllegalArgumentException("step must be > 1, got " + step);
        }
        double lowest = java.util.Arrays.stream(candidates).min().orElseThrow();
        double highest = java.util.Arrays.stream(candidates).max().orElseThrow();
        if (candidates.length > 1 && sameRate(best, highest)) {
            return round(highest * step);
        }
        if (candidates.length > 1 && sameRate(best, lowest)) {
            return round(lowest / step);
        }
        return Double.NaN;
    }

    /** A finished run: its {@code val200} accuracy and wall time. */
    public record Score(Run run, double accuracy, double seconds) {
        String row() {
            return run.key() + String.format(Locale.ROOT, "%.4f,%.0f", accuracy, seconds);
        }

        static Score parse(Path file, int line, String row) {
            String[] f = row.split(",");
            if (f.length != 7) {
                throw new IllegalArgumentException(file + ":" + line + ": expected 7 fields (" + HEADER + "), got "
                        + f.length);
            }
            return new Score(new Run(MiniVtab.Task.fromFolderName(f[0]), TuningMethods.canonicalName(f[1]),
                    Double.parseDouble(f[2]), Integer.parseInt(f[3]), Long.parseLong(f[4])),
                    Double.parseDouble(f[5]), Double.parseDouble(f[6]));
        }
    }

    /** The scores of a sweep CSV; thread-safe, so that runs on several workers can add to it. */
    public static final class Sheet {
        private final Path file;
        private final List<Score> scores = new ArrayList<>();

        /** Reads {@code file} (none yet: empty); a file without the sweep header is refused. */
        public Sheet(Path file) {
            this.file = file;
            if (!Files.exists(file)) {
                return;
            }
            List<String> lines;
            try {
                lines = Files.readAllLines(file);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
            }
            if (lines.isEmpty() || !lines.get(0).equals(HEADER)) {
                throw new IllegalArgumentException(file + " is not a sweep file: its first line must be " + HEADER);
            }
            for (int i = 1; i < lines.size(); i++) {
                scores.add(Score.parse(file, i + 1, lines.get(i)));
            }
        }

        public synchronized boolean has(Run run) {
            return scores.stream().anyMatch(s -> s.run().key().equals(run.key()));
        }

        /** Appends {@code score} and rewrites the file. */
        public synchronized void add(Score score) {
            scores.add(score);
            StringBuilder csv = new StringBuilder(HEADER).append('\n');
            scores.forEach(s -> csv.append(s.row()).append('\n'));
            try {
                Files.createDirectories(file.toAbsolutePath().getParent());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            AtomicFiles.writeString(file, csv.toString());
        }

        public synchronized List<Score> scores() {
            return List.copyOf(scores);
        }

        /**
         * The learning rate among {@code candidates} with the best mean {@code val200} accuracy over the seeds
         * scored for {@code task}, {@code method} and {@code epochs}; a tie goes to the smaller rate.
         *
         * @throws IllegalStateException when a candidate has no score yet
         */
        public synchronized double bestLearningRate(MiniVtab.Task task, String method, int epochs,
                                                    double[] candidates) {
            double best = Double.NaN;
            double bestAccuracy = Double.NEGATIVE_INFINITY;
            double[] sorted = candidates.clone();
            java.util.Arrays.sort(sorted);
            for (double lr : sorted) {
                double accuracy = scores.stream().filter(s -> s.run().task() == task && s.run().method().equals(method)
                                && s.run().epochs() == epochs && sameRate(s.run().learningRate(), lr))
                        .mapToDouble(Score::accuracy).average().orElseThrow(() -> new IllegalStateException(
                                file + " has no score for " + task.folderName() + ", " + method + ", lr "
                                        + rate(lr) + ", " + epochs + " epochs"));
                if (accuracy > bestAccuracy) {
                    bestAccuracy = accuracy;
                    best = lr;
                }
            }
            return best;
        }
    }

    private MiniVtabSweep() {
    }

    /**
     * Runs every combination that {@code out/sweep.csv} does not hold yet, one after another.
     *
     * @param tasks the tasks' data, in VTAB-1k layout
     * @param seeds seeds per combination: {@link MiniVtabBenchmark#BASE_SEED}, +1, ...
     * @return all scores in the sheet
     */
    public static List<Score> run(Path out, Map<MiniVtab.Task, VtabTask> tasks, List<String> methods, double[] lrs,
                                  int[] epochs, int seeds) {
        Sheet sheet = new Sheet(out.resolve("sweep.csv"));
        VitCheckpoint backbone = PretrainedTinyVit.backbone();
        for (Map.Entry<MiniVtab.Task, VtabTask> task : tasks.entrySet()) {
            MiniVtabBenchmark.Splits splits = null;
            for (String method : methods) {
                for (int runEpochs : epochs) {
                    for (double lr : lrs) {
                        for (int k = 0; k < seeds; k++) {
                            Run run = new Run(task.getKey(), method, lr, runEpochs, MiniVtabBenchmark.BASE_SEED + k);
                            if (sheet.has(run)) {
                                continue;
                            }
                            splits = splits != null ? splits : MiniVtabBenchmark.Splits.selection(task.getValue());
                            sheet.add(score(run, splits, backbone, out.resolve("run"), ProgressBar.console()));
                        }
                    }
                }
            }
        }
        return sheet.scores();
    }

    /**
     * Trains {@code run.method()} on {@code train800} with the benchmark's recipe at {@code run.learningRate()} in
     * {@code directory} (deleted afterwards) and scores it on {@code val200} ({@code splits}:
     * {@link MiniVtabBenchmark.Splits#selection}).
     */
    public static Score score(Run run, MiniVtabBenchmark.Splits splits, BackboneCheckpoint backbone, Path directory,
                              ProgressBar progress) {
        long start = System.nanoTime();
        MiniVtabBenchmark.deleteRecursively(directory);
        InMemoryImages train = splits.train();
        TuningMethod config = MiniVtabBenchmark.method(run.method(), backbone.config(), splits.numClasses());
        TrainingRecipe recipe = MiniVtabBenchmark.recipe(run.method(), run.seed(), run.epochs())
                .withLearningRate(run.learningRate());
        try {
            ComputationGraph graph = Trainer.newGraph(config, recipe, train.size());
            config.loadBackbone(graph, backbone);
            Trainer trainer = Trainer.start(graph, config, recipe, train, null, directory);
            trainer.progress(progress).fit();
            double accuracy = EvaluationResult.of(trainer.graph(), config, splits.evaluation(), null,
                    recipe.effectiveEvalBatchSize()).accuracy();
            Score score = new Score(run, accuracy, (System.nanoTime() - start) / 1e9);
            System.out.printf(Locale.ROOT, "%s %s lr %g, %d epochs, seed %d: val200 %.1f%% (%.0f s)%n",
                    run.task().folderName(), run.method(), run.learningRate(), run.epochs(), run.seed(),
                    100 * accuracy, score.seconds());
            return score;
        } finally {
            Nd4j.getWorkspaceManager().destroyAllWorkspacesForCurrentThread();
            MiniVtabBenchmark.deleteRecursively(directory);
        }
    }
}
