package org.sa2vp.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.rng.Random;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.data.InMemoryImages;
import org.sa2vp.data.LabelledImages;
import org.sa2vp.method.TuningMethod;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
 *   evaluation.txt, evaluation.json, confusion.csv   ND4J's evaluation of the best epoch ({@link EvaluationResult})
 * </pre>
 * each written under a temporary name and renamed. A checkpoint is written after every epoch, every
 * {@link #checkpointEvery(int)} iterations, and when {@link #requestStop()} is honoured. {@link #resume} continues
 * from {@code last.zip} + {@code state.json} and reaches the same parameters as an uninterrupted run: the data order
 * is recomputed from the seed, the partial epoch is skipped, the schedule and Adam moments continue from the
 * network's saved iteration count and updater state, and ND4J's RNG (dropout) is restored.
 *
 * <p>Without a validation set, "best" is the latest epoch.
 *
 * <p>DL4J's side: the training data is a {@link LabelledImages} set (drawn through {@link TrainingBatches}) or any
 * {@link MultiDataSetIterator}; DL4J {@link TrainingListener}s ({@link #addListeners}) get every iteration from
 * {@code ComputationGraph.fit} and {@code onEpochStart}/{@code onEpochEnd} from here, in DL4J's order (end of epoch,
 * then the graph's epoch count is incremented); validation is ND4J's {@code Evaluation} ({@link EvaluationResult},
 * written to the directory). A non-finite loss stops the run with a {@link NonFiniteLossException} before anything is
 * written, so {@code last.zip}, {@code best.zip} and the adapter file stay those of the last good checkpoint; images
 * holding NaN or infinity are refused before their step.
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
    /** Exactly one of {@code trainImages} (drawn through {@code trainBatches}) and {@code trainIterator} is set. */
    private final LabelledImages trainImages;
    private final TrainingBatches trainBatches;
    private final MultiDataSetIterator trainIterator;
    private final Validation validation;
    private final Path directory;
    private final WarmupCosineSchedule schedule;
    private final List<Listener> listeners = new ArrayList<>();
    private List<String> classNames;
    /** Optimizer steps done at the checkpoint on disk (−1: none written yet). */
    private int lastCheckpointIteration = -1;
    /** Whether {@code trainIterator} has been brought to the run's position (once per Trainer). */
    private boolean iteratorPositioned;
    private ProgressBar progress = ProgressBar.console();
    private int checkpointEvery;
    private volatile boolean stopRequested;

    /** The validation data: a set or an iterator (null: none). */
    private record Validation(LabelledImages images, MultiDataSetIterator iterator) {
        static Validation of(LabelledImages images) {
            return images == null ? null : new Validation(images, null);
        }

        static Validation of(MultiDataSetIterator iterator) {
            return iterator == null ? null : new Validation(null, iterator);
        }
    }

    private Trainer(ComputationGraph graph, TrainingState state, LabelledImages trainImages,
                    MultiDataSetIterator trainIterator, Validation validation, Path directory) {
        this.graph = graph;
        this.state = state;
        this.trainImages = trainImages;
        this.trainBatches = trainImages == null ? null
                : TrainingBatches.forTraining(trainImages, state.getConfig(), state.getRecipe());
        this.trainIterator = trainIterator;
        this.validation = validation;
        this.directory = directory;
        this.schedule = state.getRecipe().schedule(state.getIterationsPerEpoch());
        this.lastCheckpointIteration = Files.exists(directory.resolve(STATE)) ? state.getGlobalIteration() : -1;
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
     * @throws IllegalArgumentException before any work when a label is outside the method's classes, the training
     *                                  set holds fewer than two classes, or the graph was built for another recipe
     */
    public static Trainer start(ComputationGraph graph, TuningMethod config, TrainingRecipe recipe,
                                LabelledImages train, LabelledImages validation, Path directory) {
        checkLabels(train, config, "training");
        if (validation != null) {
            checkLabels(validation, config, "validation");
        }
        TrainingState state = newState(graph, config, recipe, directory, recipe.iterationsPerEpoch(train.size()));
        state.setTrainSize(train.size());
        state.setTrainFingerprint(train.fingerprint());
        return new Trainer(graph, state, train, null, Validation.of(validation), directory);
    }

    /**
     * A new run on DL4J iterators, which yield {@code MultiDataSet}s with the images as the only feature array and
     * either one label array per output of the method or one array (given to every output, {@link
     * TuningMethod#labels}). The iterations per epoch are those the graph's learning-rate schedule was built for
     * ({@link #newGraph} with the training set's size); an iterator that yields another number of batches in an
     * epoch stops the run with a one-line error. Resuming is exact when the iterator yields the same batches after
     * {@code reset()} (the trainer skips the batches an interrupted epoch already did).
     *
     * @param validation evaluated after every epoch; may be null
     */
    public static Trainer start(ComputationGraph graph, TuningMethod config, TrainingRecipe recipe,
                                MultiDataSetIterator train, MultiDataSetIterator validation, Path directory) {
        TrainingState state = newState(graph, config, recipe, directory, scheduledIterationsPerEpoch(graph, recipe));
        state.setTrainSize(-1);
        return new Trainer(graph, state, null, train, Validation.of(validation), directory);
    }

    private static TrainingState newState(ComputationGraph graph, TuningMethod config, TrainingRecipe recipe,
                                          Path directory, int iterationsPerEpoch) {
        config.validated();
        recipe.validated();
        if (config.getNumClasses() < 2) {
            throw new IllegalArgumentException("a classifier needs at least two classes, the model has "
                    + config.getNumClasses());
        }
        if (Files.exists(directory.resolve(STATE))) {
            throw new IllegalArgumentException(directory + " already holds a training run (" + STATE + "); resume it "
                    + "or choose another output directory");
        }
        if (graph.getIterationCount() != 0) {
            throw new IllegalArgumentException("the graph has already been trained for " + graph.getIterationCount()
                    + " iterations; start from a new graph (Trainer.newGraph)");
        }
        int scheduled = scheduledIterationsPerEpoch(graph, recipe);
        if (scheduled != iterationsPerEpoch) {
            throw new IllegalArgumentException("the graph's learning-rate schedule was built for " + scheduled
                    + " iterations per epoch, the training set gives " + iterationsPerEpoch + "; build the graph with "
                    + "Trainer.newGraph(method, recipe, trainingSetSize)");
        }
        TrainingState state = new TrainingState();
        state.setConfig(config);
        state.setRecipe(recipe);
        state.setIterationsPerEpoch(iterationsPerEpoch);
        return state;
    }

    /**
     * Continues the run in {@code directory} on the same training set (same images and labels in the same order,
     * checked by {@link LabelledImages#fingerprint()}) and validation set.
     */
    public static Trainer resume(Path directory, LabelledImages train, LabelledImages validation) {
        TrainingState state = TrainingState.read(directory.resolve(STATE));
        if (state.getTrainSize() < 0) {
            throw new IllegalArgumentException(directory + ": the run was started on a DL4J iterator; resume it with "
                    + "Trainer.resume(directory, iterator, validation)");
        }
        String fingerprint = state.getTrainFingerprint() == null ? null : train.fingerprint();
        if (train.size() != state.getTrainSize()
                || (fingerprint != null && !fingerprint.equals(state.getTrainFingerprint()))) {
            throw new IllegalArgumentException(directory + ": the run was started on other training data ("
                    + state.getTrainSize() + " images" + (state.getTrainFingerprint() == null ? ""
                    : ", fingerprint " + state.getTrainFingerprint().substring(0, 12)) + ") than given (" + train.size()
                    + " images" + (fingerprint == null ? "" : ", fingerprint " + fingerprint.substring(0, 12))
                    + "); resume with the same training set, or start a new run in another directory");
        }
        if (validation != null) {
            checkLabels(validation, state.getConfig(), "validation");
        }
        return new Trainer(restore(directory, state), state, train, null, Validation.of(validation), directory);
    }

    /** Continues a run started on DL4J iterators ({@link #start(ComputationGraph, TuningMethod, TrainingRecipe,
     * MultiDataSetIterator, MultiDataSetIterator, Path)}). */
    public static Trainer resume(Path directory, MultiDataSetIterator train, MultiDataSetIterator validation) {
        TrainingState state = TrainingState.read(directory.resolve(STATE));
        if (state.getTrainSize() >= 0) {
            throw new IllegalArgumentException(directory + ": the run was started on a set of " + state.getTrainSize()
                    + " images; resume it with Trainer.resume(directory, images, validation), which checks they are "
                    + "the same");
        }
        return new Trainer(restore(directory, state), state, null, train, Validation.of(validation), directory);
    }

    private static ComputationGraph restore(Path directory, TrainingState state) {
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
        graph.getConfiguration().setEpochCount(state.getEpoch());
        return graph;
    }

    /** Every label in [0, classes): checked before training so a bad label is one line, not a failed step. */
    private static void checkLabels(LabelledImages images, TuningMethod config, String which) {
        int[] labels = images.labels();
        int classes = config.getNumClasses();
        java.util.BitSet present = new java.util.BitSet();
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException(which + " image " + i + " has label " + labels[i]
                        + ", outside the model's " + classes + " classes [0, " + classes + ")");
            }
            present.set(labels[i]);
        }
        if (which.equals("training") && present.cardinality() < 2) {
            throw new IllegalArgumentException("the training set holds images of " + present.cardinality()
                    + " class" + (present.cardinality() == 1 ? " (label " + present.nextSetBit(0) + ")" : "es")
                    + "; a classifier needs at least two");
        }
    }

    /**
     * Iterations per epoch that the graph's learning-rate schedule was built for: its {@link WarmupCosineSchedule}
     * spans {@code epochs × iterationsPerEpoch} iterations ({@link TrainingRecipe#globals}).
     */
    static int scheduledIterationsPerEpoch(ComputationGraph graph, TrainingRecipe recipe) {
        for (org.deeplearning4j.nn.api.Layer layer : graph.getLayers()) {
            org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
            for (String param : layer.paramTable().keySet()) {
                if (conf.getUpdaterByParam(param) instanceof TorchAdam adam
                        && adam.getLearningRateSchedule() instanceof WarmupCosineSchedule scheduled) {
                    int total = scheduled.getTotalIterations();
                    if (total % recipe.getEpochs() != 0
                            || !recipe.schedule(total / recipe.getEpochs()).equals(scheduled)) {
                        throw new IllegalArgumentException("the graph's learning-rate schedule (" + scheduled
                                + ") is not the recipe's; build the graph with Trainer.newGraph(method, recipe, "
                                + "trainingSetSize)");
                    }
                    return total / recipe.getEpochs();
                }
            }
        }
        throw new IllegalArgumentException("the graph has no trainable layer with the recipe's optimizer (TorchAdam "
                + "on a warm-up + cosine schedule); build it with Trainer.newGraph(method, recipe, trainingSetSize)");
    }

    /**
     * Also sends the run's events to DL4J listeners ({@code ScoreIterationListener}, {@code PerformanceListener},
     * {@code CheckpointListener}, the UI's {@code StatsListener}, …): iterations from {@code ComputationGraph.fit},
     * epoch start and end from the trainer.
     */
    public Trainer addListeners(TrainingListener... dl4jListeners) {
        graph.addListeners(dl4jListeners);
        return this;
    }

    /** Class names in label order, used in the evaluation reports (default: class indices). */
    public Trainer classNames(List<String> names) {
        if (names != null && names.size() != state.getConfig().getNumClasses()) {
            throw new IllegalArgumentException(names.size() + " class names for a model of "
                    + state.getConfig().getNumClasses() + " classes");
        }
        this.classNames = names == null ? null : List.copyOf(names);
        return this;
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
        if (state.getEpoch() == 0 && state.getIterationInEpoch() == 0 && !state.isFinished()) {
            progress.line(String.format(Locale.ROOT, "training %s: %d trainable values on %s: %d epochs × %d "
                            + "iterations (batch %d), lr %.1e (warm-up %d epochs, cosine to %.1e), weight decay %.1e",
                    config.methodName(), config.trainableParameters(), trainImages != null ? trainImages.size()
                            + " images" : "a DL4J iterator", recipe.getEpochs(), perEpoch, recipe.getBatchSize(),
                    recipe.getLearningRate(), recipe.getWarmupEpochs(), recipe.getMinLearningRate(),
                    recipe.getWeightDecay()));
        }
        while (state.getEpoch() < recipe.getEpochs()) {
            int epoch = state.getEpoch();
            long epochStart = System.nanoTime();
            double secondsBefore = state.getEpochSeconds();
            positionTrainingData(epoch, state.getIterationInEpoch());
            for (TrainingListener l : graph.getListeners()) {
                l.onEpochStart(graph);
            }
            for (int it = state.getIterationInEpoch(); it < perEpoch; it++) {
                double lr = schedule.valueAt(graph.getIterationCount(), epoch);
                double loss = step(nextBatch(epoch, it), config, epoch, it);
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
                    checkpoint();
                    if (stopRequested) {
                        progress.line(String.format(Locale.ROOT, "stopped in epoch %d after iteration %d/%d; "
                                + "checkpoint in %s", epoch + 1, it + 1, perEpoch, directory));
                        stopRequested = false;
                        return result();
                    }
                }
            }
            if (trainIterator != null && trainIterator.hasNext()) {
                throw new IllegalArgumentException("the training iterator yields more than " + perEpoch + " batches "
                        + "per epoch, the number the graph's learning-rate schedule was built for; build the graph "
                        + "with Trainer.newGraph(method, recipe, trainingSetSize)");
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

    /**
     * Puts the training data at batch {@code batch} of {@code epoch}, in the same order after a resume. A set is
     * placed directly. An iterator is handled as DL4J's {@code fit(iterator)} does, {@code reset()} when an epoch is
     * exhausted; a resumed run first replays what the interrupted one did to a new iterator ({@code epoch} resets,
     * then {@code batch} batches drawn and dropped).
     */
    private void positionTrainingData(int epoch, int batch) {
        if (trainBatches != null) {
            trainBatches.setEpoch(epoch);
            trainBatches.skip(batch);
            return;
        }
        if (iteratorPositioned) {
            if (!trainIterator.hasNext()) {
                reset(trainIterator);
            }
            return;
        }
        iteratorPositioned = true;
        for (int e = 0; e < epoch; e++) {
            reset(trainIterator);
        }
        for (int i = 0; i < batch; i++) {
            nextBatch(epoch, i);
        }
    }

    private static void reset(MultiDataSetIterator iterator) {
        if (!iterator.resetSupported()) {
            throw new IllegalArgumentException("the training iterator does not support reset(), which a second "
                    + "epoch or a resumed run needs");
        }
        iterator.reset();
    }

    /**
     * The next training batch, its labels one array per output of the method; images holding NaN or infinity are
     * refused before they reach the network.
     */
    private MultiDataSet nextBatch(int epoch, int iteration) {
        int[] indices = trainBatches != null ? trainBatches.nextIndices() : null;
        MultiDataSetIterator source = trainBatches != null ? trainBatches : trainIterator;
        if (!source.hasNext()) {
            throw new IllegalArgumentException("the training iterator ended after " + iteration + " batches in epoch "
                    + (epoch + 1) + ", but the graph's learning-rate schedule was built for "
                    + state.getIterationsPerEpoch() + " per epoch; build the graph with Trainer.newGraph(method, "
                    + "recipe, trainingSetSize)");
        }
        MultiDataSet batch = source.next();
        INDArray images = batch.getFeatures(0);
        int bad = InMemoryImages.firstNonFinite(images);
        if (bad >= 0) {
            throw new IllegalArgumentException((indices != null ? "training image " + indices[bad]
                    : "image " + bad + " of training batch " + (iteration + 1)) + " (epoch " + (epoch + 1)
                    + ") holds NaN or infinite values; fix or drop it before training");
        }
        if (batch.getLabels().length == 1 && graph.getNumOutputArrays() > 1) {
            batch = new org.nd4j.linalg.dataset.MultiDataSet(batch.getFeatures(),
                    state.getConfig().labels(batch.getLabels(0)));
        }
        return batch;
    }

    /**
     * One optimizer step; returns the batch loss without the weight-decay term.
     *
     * @throws NonFiniteLossException when the loss is NaN or infinite (nothing is written)
     */
    private double step(MultiDataSet batch, TuningMethod method, int epoch, int iteration) {
        // DL4J's score adds the regulariser's 0.5·wd·|θ|² (of layer parameters); it is computed from the
        // parameters before the step, as here.
        double regularisation = graph.calcRegularizationScore(true);
        MultiDataSet typed = new org.nd4j.linalg.dataset.MultiDataSet(
                new INDArray[]{batch.getFeatures(0).castTo(state.getRecipe().getDataType())}, batch.getLabels());
        graph.fit(typed);
        double loss = graph.score() - regularisation;
        if (!Double.isFinite(loss)) {
            throw new NonFiniteLossException(loss, graph.getIterationCount(), epoch + 1, iteration + 1,
                    lastCheckpointIteration, state.getBestEpoch(), directory);
        }
        return loss;
    }

    private void endEpoch(int epoch, double seconds) {
        // The epoch's training is saved before anything that reads the validation data, so a failure there (a
        // corrupt image under --strict, say) loses no step: a resumed run finds every iteration of the epoch done
        // and goes straight to its evaluation.
        state.setEpochSeconds(seconds);
        checkpoint();
        TrainingRecipe recipe = state.getRecipe();
        boolean last = epoch + 1 == recipe.getEpochs();
        EvaluationResult evaluation = validation != null
                && ((epoch + 1) % recipe.getEvalEveryEpochs() == 0 || last) ? evaluate(recipe) : null;
        double trainLoss = state.getEpochLossSum() / state.getIterationsPerEpoch();
        boolean improved = validation == null || (evaluation != null
                && evaluation.accuracy() > state.getBestAccuracy());
        if (improved) {
            if (evaluation != null) {
                state.setBestAccuracy(evaluation.accuracy());
            }
            state.setBestEpoch(epoch + 1);
        }
        for (TrainingListener l : graph.getListeners()) {
            l.onEpochEnd(graph);
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
        if (improved) {
            AtomicFiles.copy(directory.resolve(LAST), directory.resolve(BEST));
            state.getConfig().writeTrained(directory.resolve(ADAPTER), graph);
        }
        state.write(directory.resolve(STATE));
        if (evaluation != null && improved) {
            // The reports describe the best epoch, as best.zip and the adapter file do.
            evaluation.write(directory);
        }
        MetricsCsv.write(directory.resolve(METRICS), state.getHistory());
        MetricsPlot.write(directory.resolve(CURVES), state.getHistory(), state.getConfig().methodName() + ": "
                + state.getConfig().getNumClasses() + " classes" + (trainImages == null ? ""
                : ", " + trainImages.size() + " training images"));
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

    private EvaluationResult evaluate(TrainingRecipe recipe) {
        if (validation.images() != null) {
            return EvaluationResult.of(graph, state.getConfig(), validation.images(), classNames,
                    recipe.effectiveEvalBatchSize());
        }
        if (validation.iterator().resetSupported()) {
            validation.iterator().reset();
        } else if (state.getEpoch() > 0) {
            throw new IllegalArgumentException("the validation iterator does not support reset(), which a second "
                    + "evaluation needs");
        }
        return EvaluationResult.of(graph, state.getConfig(), validation.iterator(), classNames);
    }

    /**
     * Writes last.zip, then state.json, which is what a resumed run trusts ({@link #resume} refuses a last.zip whose
     * iteration count state.json does not describe). At an epoch's end, best.zip and the adapter file follow from
     * this last.zip after the evaluation ({@link #endEpoch}); the state's epoch, not last.zip's, is the epoch count a
     * resumed graph gets.
     */
    private void checkpoint() {
        Random rng = Nd4j.getRandom();
        state.setRngRootState(rng.rootState());
        state.setRngNodeState(rng.nodeState());
        AtomicFiles.write(directory.resolve(LAST), temp -> ModelSerializer.writeModel(graph, temp.toFile(), true));
        state.write(directory.resolve(STATE));
        lastCheckpointIteration = state.getGlobalIteration();
    }

    private Result result() {
        return new Result(state.isFinished(), state.getEpoch(), state.getGlobalIteration(),
                validation == null ? Double.NaN : state.getBestAccuracy(), state.getBestEpoch());
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
