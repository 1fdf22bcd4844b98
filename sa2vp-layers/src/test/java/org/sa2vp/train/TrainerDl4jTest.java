package org.sa2vp.train;

import org.deeplearning4j.earlystopping.EarlyStoppingConfiguration;
import org.deeplearning4j.earlystopping.EarlyStoppingResult;
import org.deeplearning4j.earlystopping.saver.InMemoryModelSaver;
import org.deeplearning4j.earlystopping.scorecalc.DataSetLossCalculator;
import org.deeplearning4j.earlystopping.termination.MaxEpochsTerminationCondition;
import org.deeplearning4j.earlystopping.trainer.EarlyStoppingGraphTrainer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.optimize.listeners.CheckpointListener;
import org.deeplearning4j.optimize.listeners.PerformanceListener;
import org.deeplearning4j.optimize.listeners.ScoreIterationListener;
import org.deeplearning4j.ui.model.stats.StatsListener;
import org.deeplearning4j.ui.model.stats.api.StatsReport;
import org.deeplearning4j.core.storage.Persistable;
import org.deeplearning4j.core.storage.StatsStorageRouter;
import org.deeplearning4j.core.storage.StorageMetaData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.MultiDataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;
import org.sa2vp.data.InMemoryImages;
import org.sa2vp.data.LabelledImages;
import org.sa2vp.model.Sa2vpConfig;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Trainer} inside DL4J's training stack: its listeners get iteration and epoch events, a DL4J
 * {@link MultiDataSetIterator} trains to the same parameters as the image set it was drawn from (also after an
 * interruption), validation is ND4J's {@link Evaluation} written to the run folder, DL4J's
 * {@link EarlyStoppingGraphTrainer} trains the same graph, and bad numbers stop a run with the directory intact.
 * Tiny SA2VP-ViT ({@link TinySa2vp}) without dropout, 24 images in batches of 8, 2 epochs.
 */
class TrainerDl4jTest {

    private static final int TRAIN = 24;
    private static final int EPOCHS = 2;

    private static TrainingRecipe recipe() {
        return TrainingRecipe.builder().learningRate(2e-2).minLearningRate(1e-4).weightDecay(1e-2).epochs(EPOCHS)
                .warmupEpochs(1).batchSize(8).evalBatchSize(4).seed(7).build();
    }

    private static ProgressBar quiet() {
        return new ProgressBar(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), false);
    }

    private static ComputationGraph graph(Sa2vpConfig config) {
        return Trainer.newGraph(config, recipe(), TRAIN);
    }

    /** Records the events DL4J's listener interface receives. */
    private static final class Recorder extends BaseTrainingListener {
        final List<String> events = new ArrayList<>();

        @Override
        public void iterationDone(Model model, int iteration, int epoch) {
            events.add("it" + iteration + "@" + epoch);
        }

        @Override
        public void onEpochStart(Model model) {
            events.add("start" + ((ComputationGraph) model).getEpochCount());
        }

        @Override
        public void onEpochEnd(Model model) {
            events.add("end" + ((ComputationGraph) model).getEpochCount());
        }
    }

    /** Where a {@link StatsListener} sends what the DL4J UI shows (the UI server's storage is one such router). */
    private static final class UiRouter implements StatsStorageRouter {
        final List<Persistable> staticInfo = new ArrayList<>();
        final List<Integer> iterations = new ArrayList<>();

        @Override
        public void putStorageMetaData(StorageMetaData storageMetaData) {
        }

        @Override
        public void putStorageMetaData(Collection<? extends StorageMetaData> storageMetaData) {
        }

        @Override
        public void putStaticInfo(Persistable staticInfo) {
            this.staticInfo.add(staticInfo);
        }

        @Override
        public void putStaticInfo(Collection<? extends Persistable> staticInfo) {
            staticInfo.forEach(this::putStaticInfo);
        }

        @Override
        public void putUpdate(Persistable update) {
            iterations.add(((StatsReport) update).getIterationCount());
        }

        @Override
        public void putUpdate(Collection<? extends Persistable> updates) {
            updates.forEach(this::putUpdate);
        }
    }

    /** A user's iterator: DL4J's interface only, one label array per batch (the trainer fans it out). */
    private static final class UserIterator implements MultiDataSetIterator {
        private final MultiDataSetIterator inner;

        UserIterator(MultiDataSetIterator inner) {
            this.inner = inner;
        }

        @Override
        public MultiDataSet next(int num) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void setPreProcessor(MultiDataSetPreProcessor preProcessor) {
            throw new UnsupportedOperationException();
        }

        @Override
        public MultiDataSetPreProcessor getPreProcessor() {
            return null;
        }

        @Override
        public boolean resetSupported() {
            return true;
        }

        @Override
        public boolean asyncSupported() {
            return false;
        }

        @Override
        public void reset() {
            inner.reset();
        }

        @Override
        public boolean hasNext() {
            return inner.hasNext();
        }

        @Override
        public MultiDataSet next() {
            MultiDataSet batch = inner.next();
            return new org.nd4j.linalg.dataset.MultiDataSet(batch.getFeatures(), new INDArray[]{batch.getLabels(0)});
        }
    }

    @Test
    void dl4jListenersGetIterationAndEpochEvents(@TempDir Path tmp) throws Exception {
        Sa2vpConfig config = TinySa2vp.config(0);
        InMemoryImages train = TinySa2vp.data(TRAIN, 1);
        Recorder recorder = new Recorder();
        UiRouter stats = new UiRouter();
        Path checkpoints = Files.createDirectories(tmp.resolve("dl4j-checkpoints"));
        Trainer trainer = Trainer.start(graph(config), config, recipe(), train, TinySa2vp.data(8, 2), tmp.resolve("run"))
                .progress(quiet())
                .addListeners(recorder, new ScoreIterationListener(1), new PerformanceListener(1, true),
                        new CheckpointListener.Builder(checkpoints.toFile()).saveEveryEpoch().build(),
                        new StatsListener(stats, 1));
        trainer.fit();

        assertEquals(List.of("start0", "it0@0", "it1@0", "it2@0", "end0", "start1", "it3@1", "it4@1", "it5@1", "end1"),
                recorder.events);
        assertEquals(2, CheckpointListener.availableCheckpoints(checkpoints.toFile()).size());
        ComputationGraph saved = CheckpointListener.loadLastCheckpointCG(checkpoints.toFile());
        assertEquals(trainer.graph().params(), saved.params());
        // What the DL4J UI receives: the model's static information once, then one report per iteration.
        assertFalse(stats.staticInfo.isEmpty());
        assertEquals(List.of(0, 1, 2, 3, 4, 5), stats.iterations);
    }

    @Test
    void validationIsNd4jEvaluationWrittenToTheRunFolder(@TempDir Path tmp) throws Exception {
        Sa2vpConfig config = TinySa2vp.config(0);
        InMemoryImages val = TinySa2vp.data(8, 2);
        Path run = tmp.resolve("run");
        List<String> names = List.of("circle", "square", "triangle");
        Trainer trainer = Trainer.start(graph(config), config, recipe(), TinySa2vp.data(TRAIN, 1), val, run)
                .progress(quiet()).classNames(names);
        trainer.fit();

        // The reports describe the best epoch, as best.zip does.
        ComputationGraph best = org.deeplearning4j.util.ModelSerializer.restoreComputationGraph(
                run.resolve(Trainer.BEST).toFile(), false);
        EvaluationResult direct = EvaluationResult.of(best, config, val, names, 3);
        Evaluation written = Evaluation.fromJson(Files.readString(run.resolve(EvaluationResult.JSON)));
        assertEquals(direct.classification().getConfusion().toCSV(), written.getConfusion().toCSV());
        assertEquals(8, written.getNumRowCounter());
        int bestEpoch = TrainingState.read(run.resolve(Trainer.STATE)).getBestEpoch();
        assertEquals(trainer.history().get(bestEpoch - 1).getValAccuracy(), written.accuracy(), 1e-12);
        String report = Files.readString(run.resolve(EvaluationResult.REPORT));
        assertTrue(report.contains("triangle") && report.contains("Precision") && report.contains("Loss"), report);
        List<String> csv = Files.readAllLines(run.resolve(EvaluationResult.CONFUSION));
        assertEquals("actual\\predicted,circle,square,triangle", csv.get(0));
        assertEquals(8, csv.subList(1, 4).stream().flatMap(line -> java.util.Arrays.stream(line.split(",")).skip(1))
                .mapToInt(Integer::parseInt).sum());
        assertEquals(direct.correct(), (int) Math.round(direct.accuracy() * 8));
    }

    @Test
    void aDl4jIteratorTrainsAndResumesAsTheImageSet(@TempDir Path tmp) {
        Sa2vpConfig config = TinySa2vp.config(0);
        InMemoryImages train = TinySa2vp.data(TRAIN, 1);
        InMemoryImages val = TinySa2vp.data(8, 2);

        Trainer fromSet = Trainer.start(graph(config), config, recipe(), train, val, tmp.resolve("set"))
                .progress(quiet());
        fromSet.fit();

        TrainingRecipe recipe = recipe();
        Path iterRun = tmp.resolve("iterator");
        Trainer first = Trainer.start(graph(config), config, recipe,
                        new UserIterator(TrainingBatches.forTraining(train, config, recipe)),
                        TrainingBatches.inOrder(val, config, 4, DataType.FLOAT), iterRun)
                .progress(quiet()).addListener(TinySa2vp.stopAt(1, 1));
        assertFalse(first.fit().finished());
        Trainer resumed = Trainer.resume(iterRun, new UserIterator(TrainingBatches.forTraining(train, config, recipe)),
                TrainingBatches.inOrder(val, config, 4, DataType.FLOAT)).progress(quiet());
        assertTrue(resumed.fit().finished());

        assertEquals(fromSet.graph().params(), resumed.graph().params());
        assertEquals(fromSet.history().get(EPOCHS - 1).getValLoss(), resumed.history().get(EPOCHS - 1).getValLoss(),
                1e-12);
    }

    @Test
    void anIteratorOfTheWrongLengthIsOneLine(@TempDir Path tmp) {
        Sa2vpConfig config = TinySa2vp.config(0);
        TrainingRecipe recipe = recipe();
        Trainer trainer = Trainer.start(graph(config), config, recipe, TrainingBatches.forTraining(
                TinySa2vp.data(16, 1), config, recipe), null, tmp.resolve("run")).progress(quiet());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, trainer::fit);
        assertEquals("the training iterator ended after 2 batches in epoch 1, but the graph's learning-rate schedule "
                + "was built for 3 per epoch; build the graph with Trainer.newGraph(method, recipe, trainingSetSize)",
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Trainer.start(graph(config), config, recipe,
                TinySa2vp.data(16, 1), null, tmp.resolve("other")));
    }

    @Test
    void dl4jEarlyStoppingTrainsTheSameGraph() {
        Sa2vpConfig config = TinySa2vp.config(0);
        TrainingRecipe recipe = recipe();
        ComputationGraph graph = graph(config);
        Map<String, INDArray> before = TinySa2vp.allParameters(graph);
        TrainingBatches val = TrainingBatches.inOrder(TinySa2vp.data(8, 2), config, 4, DataType.FLOAT);
        EarlyStoppingConfiguration<ComputationGraph> es = new EarlyStoppingConfiguration.Builder<ComputationGraph>()
                .epochTerminationConditions(new MaxEpochsTerminationCondition(EPOCHS))
                .scoreCalculator(new DataSetLossCalculator(val, true))
                .modelSaver(new InMemoryModelSaver<>()).build();
        EarlyStoppingResult<ComputationGraph> result = new EarlyStoppingGraphTrainer(es, graph,
                TrainingBatches.forTraining(TinySa2vp.data(TRAIN, 1), config, recipe), null).fit();

        assertEquals(EPOCHS, result.getTotalEpochs());
        assertEquals(EarlyStoppingResult.TerminationReason.EpochTerminationCondition, result.getTerminationReason());
        Map<String, INDArray> after = TinySa2vp.allParameters(result.getBestModel());
        for (Map.Entry<String, INDArray> e : before.entrySet()) {
            boolean trainable = TinySa2vp.trainableKeys(config).contains(e.getKey());
            if (trainable) {
                assertNotEquals(e.getValue(), after.get(e.getKey()), e.getKey());
            } else {
                assertEquals(e.getValue(), after.get(e.getKey()), e.getKey());
            }
        }
    }

    @Test
    void aNonFiniteLossStopsWithTheLastGoodCheckpointIntact(@TempDir Path tmp) throws Exception {
        Sa2vpConfig config = TinySa2vp.config(0);
        TrainingRecipe recipe = recipe().toBuilder().learningRate(1e6).minLearningRate(1e6).build();
        Path run = tmp.resolve("run");
        Trainer trainer = Trainer.start(Trainer.newGraph(config, recipe, TRAIN), config, recipe,
                TinySa2vp.data(TRAIN, 1), TinySa2vp.data(8, 2), run).progress(quiet()).checkpointEvery(1);
        NonFiniteLossException e = assertThrows(NonFiniteLossException.class, trainer::fit);
        TrainingState state = TrainingState.read(run.resolve(Trainer.STATE));
        assertEquals(e.iteration() - 1, state.getGlobalIteration());
        ComputationGraph last = org.deeplearning4j.util.ModelSerializer.restoreComputationGraph(
                run.resolve(Trainer.LAST).toFile(), false);
        assertEquals(state.getGlobalIteration(), last.getIterationCount());
        assertFalse(Double.isNaN(last.params().sumNumber().doubleValue()), "last.zip holds finite parameters");
        assertTrue(e.getMessage().startsWith("the training loss is "), e.getMessage());
        assertTrue(e.getMessage().contains("at iteration " + e.iteration() + " (epoch "), e.getMessage());
        assertTrue(e.getMessage().contains(run + " keeps its checkpoint of iteration " + state.getGlobalIteration()),
                e.getMessage());
    }

    @Test
    void badNumbersAndBadLabelsAreRefusedInOneLine(@TempDir Path tmp) {
        Sa2vpConfig config = TinySa2vp.config(0);
        InMemoryImages train = TinySa2vp.data(TRAIN, 1);
        INDArray images = train.images().dup();
        images.putScalar(new long[]{5, 1, 2, 3}, Double.NaN);
        Trainer nan = Trainer.start(graph(config), config, recipe(), new InMemoryImages(images, train.labels()), null,
                tmp.resolve("nan")).progress(quiet());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, nan::fit);
        assertEquals("training image 5 (epoch 1) holds NaN or infinite values; fix or drop it before training",
                e.getMessage());
        assertFalse(Files.exists(tmp.resolve("nan").resolve(Trainer.LAST)));

        int[] outside = train.labels();
        outside[7] = 3;
        e = assertThrows(IllegalArgumentException.class, () -> Trainer.start(graph(config), config, recipe(),
                new InMemoryImages(train.images(), outside), null, tmp.resolve("labels")));
        assertEquals("training image 7 has label 3, outside the model's 3 classes [0, 3)", e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> Trainer.start(graph(config), config, recipe(),
                new InMemoryImages(train.images(), new int[TRAIN], 3), null, tmp.resolve("one")));
        assertEquals("the training set holds images of 1 class (label 0); a classifier needs at least two",
                e.getMessage());
    }

    @Test
    void otherDataIsNeverTakenForAResume(@TempDir Path tmp) {
        Sa2vpConfig config = TinySa2vp.config(0);
        InMemoryImages train = TinySa2vp.data(TRAIN, 1);
        Path run = tmp.resolve("run");
        Trainer.start(graph(config), config, recipe(), train, null, run).progress(quiet())
                .addListener(TinySa2vp.stopAt(0, 1)).fit();
        InMemoryImages sameSizeOtherImages = TinySa2vp.data(TRAIN, 99);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.resume(run, sameSizeOtherImages, null));
        assertTrue(e.getMessage().startsWith(run + ": the run was started on other training data (24 images, "
                + "fingerprint " + train.fingerprint().substring(0, 12) + ") than given (24 images, fingerprint "
                + sameSizeOtherImages.fingerprint().substring(0, 12) + ")"), e.getMessage());
        Trainer.resume(run, new InMemoryImages(train.images().dup(), train.labels()), null);
    }

    @Test
    void aFailingValidationLosesNoTraining(@TempDir Path tmp) {
        Sa2vpConfig config = TinySa2vp.config(0);
        InMemoryImages train = TinySa2vp.data(TRAIN, 1);
        InMemoryImages val = TinySa2vp.data(8, 2);
        Trainer straight = Trainer.start(graph(config), config, recipe(), train, val, tmp.resolve("straight"))
                .progress(quiet());
        straight.fit();

        // A validation set whose files break during the first evaluation (a corrupt image under --strict, say).
        LabelledImages breaking = new LabelledImages() {
            @Override
            public int size() {
                return val.size();
            }

            @Override
            public int[] labels() {
                return val.labels();
            }

            @Override
            public Batch batch(int[] indices) {
                throw new IllegalArgumentException("image 3 is unreadable");
            }
        };
        Path run = tmp.resolve("run");
        Trainer failing = Trainer.start(graph(config), config, recipe(), train, breaking, run).progress(quiet());
        assertEquals("image 3 is unreadable", assertThrows(IllegalArgumentException.class, failing::fit)
                .getMessage());
        TrainingState saved = TrainingState.read(run.resolve(Trainer.STATE));
        assertEquals(3, saved.getGlobalIteration(), "the epoch's three steps are on disk");
        assertEquals(0, saved.getEpoch());

        Trainer resumed = Trainer.resume(run, train, val).progress(quiet());
        assertTrue(resumed.fit().finished());
        assertEquals(straight.graph().params(), resumed.graph().params());
        assertEquals(withoutSeconds(straight.history()), withoutSeconds(resumed.history()));
        assertEquals(EPOCHS, resumed.graph().getEpochCount());
    }

    /** Epoch records with the wall-clock time, the one field that differs between equal runs, zeroed. */
    private static List<EpochRecord> withoutSeconds(List<EpochRecord> history) {
        history.forEach(r -> r.setSeconds(0));
        return history;
    }
}
