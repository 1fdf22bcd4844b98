package org.sa2vp.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.data.LabelledImages;
import org.sa2vp.method.TuningMethod;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Trains a graph of any {@link TuningMethod} (SA2VP or a baseline) with a {@link TrainingRecipe}, as the SA2VP
 * authors' engine does: every epoch the training set
 * is shuffled ({@code java.util.Random(seed + epoch)}, Fisher–Yates), split into batches with the last partial
 * batch dropped, one optimizer step per batch with the per-iteration learning rate; after the epoch the model is
 * evaluated on the validation set (top-1 accuracy of the image logits and the loss) and the best epoch kept.
 *
 * <p>Everything goes to one directory:
 * <pre>
 *   last.zip             the network after the latest checkpoint, with updater state (ModelSerializer)
 *   best.zip             the network of the best validation accuracy so far
 *   adapter.safetensors  what the best network trained ({@link TuningMethod#writeTrained}; for SA2VP the adapter file)
 *   state.json           position in the run, RNG state, configurations, history ({@link TrainingState})
 *   metrics.csv          one row per epoch ({@link MetricsCsv});   curves.png  the same as a plot ({@link MetricsPlot})
 * </pre>
 * each written under a temporary name and renamed. A checkpoint is written after every epoch, every
 * {@link #checkpointEvery(int)} iterations, and when {@link #requestStop()} is honoured. {@link #resume} continues
 * from {@code last.zip} + {@code state.json} and reaches the same parameters as an uninterrupted run: the data order
 * is recomputed from the seed, the partial epoch is skipped, the schedule and Adam moments continue from the
 * network's saved iteration count and updater state, and ND4J's RNG (dropout) is restored.
 *
 * <p>Without a validation set, "best" is the latest epoch.
 */
public final class Trainer {

    public static final String LAST = "last.zip";
    public static final String BEST = "best.zip";
    public static final String STATE = "state.json";
    public static final String METRICS = "metrics.csv";
    public static final String CURVES = "curves.png";
    public static final String ADAPTER = "adapter.safetensors";

    /** Callbacks during {@link #fit()}; they run on the training thread. */
    public interface Listener {
        /** After every optimizer step; {@code iterationInEpoch} is 1-based, epochs are 0-based. */
        default void iterationDone(Trainer trainer, int epoch, int iterationInEpoch, double loss) {
        }

        /** After an epoch's evaluation and checkpoint. */
        default void epochDone(Trainer trainer, EpochRecord record) {
        }
    }

    /**
     * @param finished   all epochs done
     * @param epochs     epochs completed
     * @param iterations optimizer steps done
     * @param bestAccuracy best validation accuracy (NaN without validation)
     * @param bestEpoch  1-based epoch of the best accuracy (the last epoch without validation)
     */
    public record Result(boolean finished, int epochs, int iterations, double bestAccuracy, int bestEpoch) {
    }

    private final ComputationGraph graph;
    private final TrainingState state;
    private final LabelledImages train;
    private final LabelledImages validation;
    private final Path directory;
    private final WarmupCosineSchedule schedule;
    private final List<Listener> listeners = new ArrayList<>();
    private ProgressBar progress = ProgressBar.console();
    private int checkpointEvery;
    private volatile boolean stopRequested;

    private Trainer(ComputationGraph graph, TrainingState state, LabelledImages train, LabelledImages validation,
                    Path directory) {
        this.graph = graph;
        this.state = state;
        this.train = train;
        this.validation = validation;
        this.directory = directory;
        this.schedule = state.getRecipe().schedule(state.getIterationsPerEpoch());
    }

    /**
     * A new graph of {@code method} configured for {@code recipe} on a training set of {@code trainSize} images (the
     * learning rate schedule depends on the iterations per epoch), with random backbone stand-ins: load the
     * backbone next ({@link TuningMethod#loadBackbone}).
     */
    public static ComputationGraph newGraph(TuningMethod method, TrainingRecipe recipe, int trainSize) {
        ComputationGraph graph = new ComputationGraph(method.configuration(
                recipe.globals(recipe.iterationsPerEpoch(trainSize))));
        graph.init();
        return graph;
    }

    /**
     * A new run in {@code directory}, which must not hold one already.
     *
     * @param graph      from {@link #newGraph} with the same config, recipe and training set, backbone loaded
     * @param validation evaluated after every epoch; may be null
     */
    public static Trainer start(ComputationGraph graph, TuningMethod config, TrainingRecipe recipe,
                                LabelledImages train, LabelledImages validation, Path directory) {
        config.validated();
        recipe.validated();
        if (Files.exists(directory.resolve(STATE))) {
            throw new IllegalArgumentException(directory + " already holds a training run (" + STATE + "); resume it "
                    + "or choose another output directory");
        }
        if (graph.getIterationCount() != 0) {
            throw new IllegalArgumentException("the graph has already been trained for " + graph.getIterationCount()
                    + " iterations; start from a new graph (Trainer.newGraph)");
        }
        TrainingState state = new TrainingState();
        state.setConfig(config);
        state.setRecipe(recipe);
        state.setTrainSize(train.size());
        state.setIterationsPerEpoch(recipe.iterationsPerEpoch(train.size()));
        return new Trainer(graph, state, train, validation, directory);
    }

    /**
     * Continues the run in {@code directory} on the same training set (same size and order) and validation set.
     */
    public static Trainer resume(Path directory, LabelledImages train, LabelledImages validation) {
        TrainingState state = TrainingState.read(directory.resolve(STATE));
        if (train.size() != state.getTrainSize()) {
            throw new IllegalArgumentException(directory + ": the run was started on " + state.getTrainSize()
                    + " training images, got " + train.size() + "; resume with the same training set");
        }
        Path last = directory.resolve(LAST);
        ComputationGraph graph;
        try {
            graph = ModelSerializer.restoreComputationGraph(last.toFile(), true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + last + ": " + e.getMessage(), e);
        }
        if (graph.getIterationCount() != state.getGlobalIteration()) {
            throw new IllegalArgumentException(last + " holds iteration " + graph.getIterationCount() + " but " + STATE
                    + " describes iteration " + state.getGlobalIteration() + " (interrupted while checkpointing?)");
        }
        return new Trainer(graph, state, train, validation, directory);
    }

    /** Where progress goes; default {@link ProgressBar#console()}. */
    public Trainer progress(ProgressBar bar) {
        this.progress = bar;
        return this;
    }

    /** Also checkpoint every {@code iterations} optimizer steps within epochs (0: only at epoch ends). */
    public Trainer checkpointEvery(int iterations) {
        if (iterations < 0) {
            throw new IllegalArgumentException("checkpointEvery must be >= 0, got " + iterations);
        }
        this.checkpointEvery = iterations;
        return this;
    }

    public Trainer addListener(Listener listener) {
        listeners.add(listener);
        return this;
    }

    /**
     * Asks {@link #fit()} to stop after the current iteration: it writes a checkpoint and returns. Safe to call
     * from another thread (e.g. a shutdown hook).
     */
    public void requestStop() {
        stopRequested = true;
    }

    public ComputationGraph graph() {
        return graph;
    }

    public TuningMethod config() {
        return state.getConfig();
    }

    public TrainingRecipe recipe() {
        return state.getRecipe();
    }

    public Path directory() {
        return directory;
    }

    /** The run's history so far (a copy). */
    public List<EpochRecord> history() {
        return new ArrayList<>(state.getHistory());
    }

    /**
     * Trains until the last epoch or until {@link #requestStop()} (honoured once; calling {@code fit} again
     * continues); a finished run returns at once.
     */
    public Result fit() {
        TrainingRecipe recipe = state.getRecipe();
        TuningMethod config = state.getConfig();
        Random rng = Nd4j.getRandom();
        if (state.getRngRootState() == null) {
            rng.setSeed(recipe.getSeed());
        } else {
            rng.setStates(state.getRngRootState(), state.getRngNodeState());
        }
        int perEpoch = state.getIterationsPerEpoch();
        int batchSize = recipe.getBatchSize();
        DataType dataType = recipe.getDataType();
        if (state.getEpoch() == 0 && state.getIterationInEpoch() == 0 && !state.isFinished()) {
            progress.line(String.format(Locale.ROOT, "training %s: %d trainable values on %d images: %d epochs × %d "
                            + "iterations (batch %d), lr %.1e (warm-up %d epochs, cosine to %.1e), weight decay %.1e",
                    config.methodName(), config.trainableParameters(), train.size(), recipe.getEpochs(), perEpoch, batchSize, recipe.getLearningRate(),
                    recipe.getWarmupEpochs(), recipe.getMinLearningRate(), recipe.getWeightDecay()));
        }
        while (state.getEpoch() < recipe.getEpochs()) {
            int epoch = state.getEpoch();
            int[] order = permutation(train.size(), recipe.getSeed() + epoch);
            long epochStart = System.nanoTime();
            double secondsBefore = state.getEpochSeconds();
            for (int it = state.getIterationInEpoch(); it < perEpoch; it++) {
                int from = it * batchSize;
                int[] indices = Arrays.copyOfRange(order, from, Math.min(from + batchSize, order.length));
                LabelledImages.Batch batch = train.batch(indices, epoch);
                double lr = schedule.valueAt(graph.getIterationCount(), epoch);
                double loss = step(batch, config, dataType);
                state.setEpochLossSum(state.getEpochLossSum() + loss);
                state.setIterationInEpoch(it + 1);
                state.setGlobalIteration(graph.getIterationCount());
                state.setLearningRate(lr);
                progress.iteration(epoch + 1, recipe.getEpochs(), it + 1, perEpoch, loss, lr,
                        (recipe.getEpochs() - epoch - 1) * perEpoch + perEpoch - it - 1);
                for (Listener l : listeners) {
                    l.iterationDone(this, epoch, it + 1, loss);
                }
                boolean periodic = checkpointEvery > 0 && state.getGlobalIteration() % checkpointEvery == 0;
                if (it + 1 < perEpoch && (stopRequested || periodic)) {
                    state.setEpochSeconds(secondsBefore + (System.nanoTime() - epochStart) / 1e9);
                    checkpoint(false);
                    if (stopRequested) {
                        progress.line(String.format(Locale.ROOT, "stopped in epoch %d after iteration %d/%d; "
                                + "checkpoint in %s", epoch + 1, it + 1, perEpoch, directory));
                        stopRequested = false;
                        return result();
                    }
                }
            }
            endEpoch(epoch, secondsBefore + (System.nanoTime() - epochStart) / 1e9);
            if (stopRequested && state.getEpoch() < recipe.getEpochs()) {
                progress.line("stopped after epoch " + state.getEpoch() + "; checkpoint in " + directory);
                stopRequested = false;
                return result();
            }
        }
        if (!state.isFinished()) {
            state.setFinished(true);
            state.write(directory.resolve(STATE));
        }
        return result();
    }

    /** One optimizer step; returns the batch loss without the weight-decay term. */
    private double step(LabelledImages.Batch batch, TuningMethod method, DataType dataType) {
        INDArray labels = oneHot(batch.labels(), method.getNumClasses(), dataType);
        // DL4J's score adds the regulariser's 0.5·wd·|θ|² (of layer parameters); it is computed from the
        // parameters before the step, as here.
        double regularisation = graph.calcRegularizationScore(true);
        graph.fit(new MultiDataSet(new INDArray[]{batch.images().castTo(dataType)}, method.labels(labels)));
        return graph.score() - regularisation;
    }

    private void endEpoch(int epoch, double seconds) {
        TrainingRecipe recipe = state.getRecipe();
        boolean last = epoch + 1 == recipe.getEpochs();
        Evaluation evaluation = validation != null && ((epoch + 1) % recipe.getEvalEveryEpochs() == 0 || last)
                ? Evaluation.of(graph, state.getConfig(), validation, recipe.effectiveEvalBatchSize())
                : null;
        double trainLoss = state.getEpochLossSum() / state.getIterationsPerEpoch();
        boolean improved = validation == null || (evaluation != null
                && evaluation.accuracy() > state.getBestAccuracy());
        if (improved) {
            if (evaluation != null) {
                state.setBestAccuracy(evaluation.accuracy());
            }
            state.setBestEpoch(epoch + 1);
        }
        graph.incrementEpochCount();
        state.setEpoch(epoch + 1);
        state.setIterationInEpoch(0);
        state.setEpochLossSum(0);
        state.setEpochSeconds(0);
        EpochRecord record = new EpochRecord(epoch + 1, state.getGlobalIteration(), state.getLearningRate(),
                trainLoss, evaluation == null ? null : evaluation.loss(),
                evaluation == null ? null : evaluation.accuracy(), seconds);
        state.getHistory().add(record);
        checkpoint(improved);
        MetricsCsv.write(directory.resolve(METRICS), state.getHistory());
        MetricsPlot.write(directory.resolve(CURVES), state.getHistory(), state.getConfig().methodName() + ": "
                + state.getConfig().getNumClasses() + " classes, " + train.size() + " training images");
        progress.line(String.format(Locale.ROOT, "epoch %d/%d  train loss %.4f%s  lr %.2e  %.1f s",
                epoch + 1, recipe.getEpochs(), trainLoss, evaluation == null ? ""
                        : String.format(Locale.ROOT, "  val loss %.4f  val acc %.2f%% (%d/%d)  best %.2f%% @ %d",
                        evaluation.loss(), 100 * evaluation.accuracy(), evaluation.correct(), evaluation.count(),
                        100 * state.getBestAccuracy(), state.getBestEpoch()), state.getLearningRate(),
                record.getSeconds()));
        for (Listener l : listeners) {
            l.epochDone(this, record);
        }
    }

    /**
     * Writes last.zip (+ best.zip and the adapter file when {@code best}), then state.json, which is what a resumed
     * run trusts ({@link #resume} refuses a last.zip whose iteration count state.json does not describe).
     */
    private void checkpoint(boolean best) {
        Random rng = Nd4j.getRandom();
        state.setRngRootState(rng.rootState());
        state.setRngNodeState(rng.nodeState());
        Path last = directory.resolve(LAST);
        AtomicFiles.write(last, temp -> ModelSerializer.writeModel(graph, temp.toFile(), true));
        if (best) {
            AtomicFiles.copy(last, directory.resolve(BEST));
            state.getConfig().writeTrained(directory.resolve(ADAPTER), graph);
        }
        state.write(directory.resolve(STATE));
    }

    private Result result() {
        return new Result(state.isFinished(), state.getEpoch(), state.getGlobalIteration(),
                validation == null ? Double.NaN : state.getBestAccuracy(), state.getBestEpoch());
    }

    /** The epoch's data order: Fisher–Yates with {@code java.util.Random(seed)} (specified, so portable). */
    static int[] permutation(int n, long seed) {
        java.util.Random random = new java.util.Random(seed);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    static INDArray oneHot(int[] labels, int numClasses, DataType dataType) {
        INDArray out = Nd4j.zeros(dataType, labels.length, numClasses);
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] >= numClasses) {
                throw new IllegalArgumentException("label " + labels[i] + " is not below the model's " + numClasses
                        + " classes");
            }
            out.putScalar(i, labels[i], 1.0);
        }
        return out;
    }
}
