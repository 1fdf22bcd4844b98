package org.sa2vp.zoo.minivtab;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.backbone.Backbone;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.data.InMemoryImages;
import org.sa2vp.data.VtabSplit;
import org.sa2vp.data.VtabTask;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.method.TuningMethods;
import org.sa2vp.train.EvaluationResult;
import org.sa2vp.train.ProgressBar;
import org.sa2vp.train.Trainer;
import org.sa2vp.train.TrainingRecipe;
import org.sa2vp.zoo.FashionMnistBackbone;
import org.sa2vp.zoo.PretrainedTinyVit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The mini-VTAB benchmark: tuning methods on every {@link MiniVtab.Task}, adapting the bundled
 * {@link PretrainedTinyVit}, with one recipe per method ({@link #recipe}) as VTAB-1k's final protocol: train on
 * {@code train800val200}, report top-1 accuracy on {@code test}. The learning rate is the recipe's, or one chosen per
 * task and method on {@code val200} ({@link MiniVtabSweep}), as the paper chooses its hyperparameters. Any method
 * registered with {@link TuningMethods} runs here by its name; the table's methods have their pilot recipe
 * ({@link #PILOT}).
 */
public final class MiniVtabBenchmark {

    /**
     * One row of the benchmark's recipe table: the pilot's learning rate and weight decay of a method, and the
     * settings it runs with here instead of its defaults.
     */
    public record MethodRecipe(double learningRate, double weightDecay, Map<String, Object> settings) {
    }

    /**
     * The paper's methods in table order (baselines first, SA2VP last) with the recipes chosen once, in a pilot on
     * {@code digit_location} (seed 42; 5 epochs): a head or prompts take larger steps than SA2VP's adapters or a
     * whole network. SA2VP runs without dropout: the authors' 0.1 is for 100 epochs on ViT-B; in {@value #EPOCHS}
     * epochs it cost 10 points on {@code digit_location} in the pilot, and no baseline here has dropout either.
     */
    public static final Map<String, MethodRecipe> PILOT = pilot();

    /** A registered method outside {@link #PILOT}: SA2VP's step sizes, its own defaults. */
    public static final MethodRecipe OTHER_METHODS = new MethodRecipe(1e-2, 1e-4, Map.of());

    /** Methods in table order: the keys of {@link #PILOT}. */
    public static final List<String> METHODS = List.copyOf(PILOT.keySet());
    public static final int DEFAULT_SEEDS = 3;
    public static final int EPOCHS = 5;
    public static final int BATCH_SIZE = 32;
    /** Epochs of linear warm-up from learning rate 0, before the cosine. */
    public static final int WARMUP_EPOCHS = 1;
    /** The cosine's final learning rate. */
    public static final double MIN_LEARNING_RATE = 1e-6;
    /** Seed of run {@code k} is {@code BASE_SEED + k}. */
    public static final long BASE_SEED = 42;

    /** One finished run. */
    public record Result(MiniVtab.Task task, String method, long seed, double learningRate, double accuracy,
                         int correct, int count, long trainableParameters, double seconds) {
    }

    private MiniVtabBenchmark() {
    }

    private static Map<String, MethodRecipe> pilot() {
        Map<String, MethodRecipe> table = new LinkedHashMap<>();
        table.put("linear-probe", new MethodRecipe(3e-2, 0, Map.of()));
        table.put("vpt-shallow", new MethodRecipe(3e-2, 1e-4, Map.of()));
        table.put("vpt-deep", new MethodRecipe(3e-2, 1e-4, Map.of()));
        table.put("full-finetune", new MethodRecipe(5e-4, 0.05, Map.of()));
        table.put("sa2vp", new MethodRecipe(1e-2, 1e-4, Map.of("dropout", 0.0)));
        return Collections.unmodifiableMap(table);
    }

    /** The row of {@code method} ({@link #PILOT}, else {@link #OTHER_METHODS}). */
    public static MethodRecipe methodRecipe(String method) {
        return PILOT.getOrDefault(TuningMethods.canonicalName(method), OTHER_METHODS);
    }

    /**
     * The recipe of {@code method}: AdamW, {@code epochs} (the table: {@value #EPOCHS}) with one of linear warm-up
     * then cosine, batch {@value #BATCH_SIZE}, and the method's learning rate and weight decay
     * ({@link #methodRecipe}). The rates are also the centre of the learning-rate search
     * ({@code sa2vp minivtab --lr-factors}).
     */
    public static TrainingRecipe recipe(String method, long seed, int epochs) {
        MethodRecipe row = methodRecipe(method);
        return TrainingRecipe.builder().epochs(epochs).warmupEpochs(WARMUP_EPOCHS).batchSize(BATCH_SIZE)
                .minLearningRate(MIN_LEARNING_RATE)
                .evalBatchSize(250).seed(seed).build().withLearningRate(row.learningRate())
                .withWeightDecay(row.weightDecay());
    }

    /** The method's configuration in this benchmark: its defaults with its row's settings. */
    public static TuningMethod method(String method, Backbone backbone, int numClasses) {
        return TuningMethods.withSettings(TuningMethods.create(method, backbone, numClasses),
                methodRecipe(method).settings());
    }

    /**
     * A task's training and evaluation splits as network input, read once per task and shared by all its runs:
     * {@code train800 → val200} to choose a learning rate, {@code train800val200 → test} for the final runs.
     */
    public record Splits(int numClasses, InMemoryImages train, InMemoryImages evaluation) {
        /** {@code train800} and {@code val200}: for choosing a recipe without looking at {@code test}. */
        public static Splits selection(VtabTask data) {
            return new Splits(data.numClasses(), load(data, VtabSplit.TRAIN800), load(data, VtabSplit.VAL200));
        }

        /** {@code train800val200} and {@code test}: VTAB-1k's final protocol. */
        public static Splits finals(VtabTask data) {
            return new Splits(data.numClasses(), load(data, VtabSplit.TRAIN800VAL200), load(data, VtabSplit.TEST));
        }
    }

    /** The task's split as network input: grey 32×32, normalised as the bundled backbones were trained. */
    private static InMemoryImages load(VtabTask task, VtabSplit split) {
        InMemoryImages pixels = task.split(split, FashionMnistBackbone.CHANNELS, FashionMnistBackbone.IMAGE_SIZE);
        return pixels.withImages(FashionMnistBackbone.normalize(pixels.images()));
    }

    /**
     * Trains {@code method} on the task's {@code train800val200} in {@code runDirectory} (resumed if it holds an
     * unfinished run) and evaluates the result on {@code test} ({@code splits}: {@link Splits#finals}). Only the
     * run's metrics, curves and trained tensors are kept; the network checkpoints are deleted when the run is done.
     */
    public static Result run(MiniVtab.Task task, Splits splits, String method, long seed, int epochs,
                             double learningRate, BackboneCheckpoint backbone, Path runDirectory, ProgressBar progress) {
        long start = System.nanoTime();
        InMemoryImages train = splits.train();
        TuningMethod config = method(method, backbone.config(), splits.numClasses());
        TrainingRecipe recipe = recipe(method, seed, epochs).withLearningRate(learningRate);
        Trainer trainer;
        if (Files.exists(runDirectory.resolve(Trainer.STATE)) && !Files.exists(runDirectory.resolve(Trainer.LAST))) {
            // Finished and cleaned up, but its result was not recorded (stopped in between): run it again.
            deleteRecursively(runDirectory);
        }
        if (Files.exists(runDirectory.resolve(Trainer.STATE))) {
            trainer = Trainer.resume(runDirectory, train, null);
        } else {
            ComputationGraph graph = Trainer.newGraph(config, recipe, train.size());
            config.loadBackbone(graph, backbone);
            trainer = Trainer.start(graph, config, recipe, train, null, runDirectory);
        }
        EvaluationResult evaluation;
        try {
            Trainer.Result result = trainer.progress(progress).fit();
            if (!result.finished()) {
                throw new IllegalStateException("run in " + runDirectory + " stopped before its last epoch");
            }
            evaluation = EvaluationResult.of(trainer.graph(), config, splits.evaluation(), null, recipe.effectiveEvalBatchSize());
        } finally {
            // The kernels' per-layer training caches are workspaces of this thread; a benchmark trains a hundred
            // networks on the same threads, so free them with the network.
            Nd4j.getWorkspaceManager().destroyAllWorkspacesForCurrentThread();
        }
        deleteCheckpoints(runDirectory);
        return new Result(task, method, seed, learningRate, evaluation.accuracy(), evaluation.correct(),
                evaluation.count(), config.trainableParameters(), (System.nanoTime() - start) / 1e9);
    }

    /** Deletes {@code directory} and everything below it; nothing when it does not exist. */
    static void deleteRecursively(Path directory) {
        if (!Files.exists(directory)) {
            return;
        }
        try (var files = Files.walk(directory)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteCheckpoints(Path runDirectory) {
        try {
            Files.deleteIfExists(runDirectory.resolve(Trainer.LAST));
            Files.deleteIfExists(runDirectory.resolve(Trainer.BEST));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
