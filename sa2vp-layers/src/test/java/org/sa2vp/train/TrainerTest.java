package org.sa2vp.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.data.InMemoryImages;
import org.sa2vp.data.LabelledImages;
import org.sa2vp.model.AdapterFile;
import org.sa2vp.model.AuthorsNames;
import org.sa2vp.model.Sa2vpConfig;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Trainer} on the tiny SA2VP-ViT with dropout 0.1 (so ND4J's RNG matters): 24 training images in batches of
 * 8 (3 iterations per epoch), 8 validation images, 3 epochs with 1 of warm-up. A run interrupted after epoch 1
 * and again in the middle of epoch 2, then resumed, ends with the same parameters, history and best epoch as an
 * uninterrupted run; the output directory holds what the class documents.
 */
class TrainerTest {

    private static final int TRAIN = 24;
    private static final int BATCH = 8;
    private static final int EPOCHS = 3;

    private static TrainingRecipe recipe() {
        return TrainingRecipe.builder().learningRate(2e-2).minLearningRate(1e-4).weightDecay(1e-2).epochs(EPOCHS)
                .warmupEpochs(1).batchSize(BATCH).evalBatchSize(4).seed(7).build();
    }

    private static ProgressBar quiet(ByteArrayOutputStream sink) {
        return new ProgressBar(new PrintStream(sink, true, StandardCharsets.UTF_8), false);
    }

    private static Trainer fresh(Path dir, Sa2vpConfig config, LabelledImages train, LabelledImages val) {
        TrainingRecipe recipe = recipe();
        ComputationGraph graph = Trainer.newGraph(config, recipe, train.size());
        return Trainer.start(graph, config, recipe, train, val, dir);
    }

    @Test
    void interruptedAndResumedRunEqualsUninterruptedRun(@TempDir Path tmp) throws Exception {
        Sa2vpConfig config = TinySa2vp.config(0.1);
        InMemoryImages train = TinySa2vp.data(TRAIN, 11);
        InMemoryImages val = TinySa2vp.data(8, 12);
        ByteArrayOutputStream log = new ByteArrayOutputStream();

        Path straight = tmp.resolve("straight");
        Trainer a = fresh(straight, config, train, val).progress(quiet(log));
        INDArray initial = a.graph().params().dup();
        long t0 = System.nanoTime();
        Trainer.Result ra = a.fit();
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(ra.finished());
        assertEquals(EPOCHS * TRAIN / BATCH, ra.iterations());
        INDArray expected = a.graph().params().dup();
        assertTrue(expected.sub(initial).amaxNumber().doubleValue() > 1e-3, "training changed nothing");

        Path interrupted = tmp.resolve("interrupted");
        Trainer b1 = fresh(interrupted, config, train, val).progress(quiet(log)).addListener(TinySa2vp.stopAt(0, 3));
        Trainer.Result r1 = b1.fit();
        assertFalse(r1.finished());
        assertEquals(1, r1.epochs());
        assertEquals(3, r1.iterations());

        Trainer b2 = Trainer.resume(interrupted, train, val).progress(quiet(log)).checkpointEvery(2)
                .addListener(TinySa2vp.stopAt(1, 1));
        Trainer.Result r2 = b2.fit();
        assertFalse(r2.finished());
        assertEquals(4, r2.iterations());
        TrainingState mid = TrainingState.read(interrupted.resolve(Trainer.STATE));
        assertEquals(1, mid.getEpoch());
        assertEquals(1, mid.getIterationInEpoch());

        Trainer b3 = Trainer.resume(interrupted, train, val).progress(quiet(log));
        Trainer.Result r3 = b3.fit();
        assertTrue(r3.finished());
        INDArray actual = b3.graph().params();
        double difference = actual.sub(expected).amaxNumber().doubleValue();
        System.out.printf("uninterrupted run %.1f s (%d iterations); interrupted twice and resumed: max |Δθ| %.1e "
                + "over %d parameters%n", seconds, ra.iterations(), difference, actual.length());
        assertTrue(difference <= 1e-6, "resumed parameters differ by " + difference);
        assertEquals(ra.bestEpoch(), r3.bestEpoch());
        assertEquals(ra.bestAccuracy(), r3.bestAccuracy(), 1e-12);

        List<EpochRecord> ha = a.history(), hb = b3.history();
        assertEquals(EPOCHS, hb.size());
        for (int e = 0; e < EPOCHS; e++) {
            assertEquals(ha.get(e).getIteration(), hb.get(e).getIteration());
            assertEquals(ha.get(e).getLearningRate(), hb.get(e).getLearningRate(), 0.0);
            assertEquals(ha.get(e).getTrainLoss(), hb.get(e).getTrainLoss(), 1e-6);
            assertEquals(ha.get(e).getValLoss(), hb.get(e).getValLoss(), 1e-6);
            assertEquals(ha.get(e).getValAccuracy(), hb.get(e).getValAccuracy(), 1e-12);
        }

        // A resumed run of a finished directory does nothing.
        Trainer done = Trainer.resume(interrupted, train, val).progress(quiet(log));
        assertTrue(done.fit().finished());
        assertEquals(actual, done.graph().params());
        assertThrows(IllegalArgumentException.class, () -> Trainer.resume(interrupted, TinySa2vp.data(16, 1), val));
        assertThrows(IllegalArgumentException.class, () -> fresh(interrupted, config, train, val));
        assertThrows(IllegalArgumentException.class, () -> Trainer.resume(tmp.resolve("none"), train, val));

        assertOutputs(straight, a, config, val);
        String text = log.toString(StandardCharsets.UTF_8);
        for (int e = 1; e <= EPOCHS; e++) {
            assertTrue(text.contains("epoch " + e + "/" + EPOCHS + "  train loss"), text);
        }
        assertTrue(text.contains("stopped in epoch 2 after iteration 1/3"), text);
    }

    /** metrics.csv, curves.png, state.json, last/best.zip and the adapter file of a finished run. */
    private static void assertOutputs(Path dir, Trainer trainer, Sa2vpConfig config, LabelledImages val)
            throws Exception {
        List<String> rows = Files.readAllLines(dir.resolve(Trainer.METRICS));
        assertEquals(MetricsCsv.HEADER, rows.get(0));
        assertEquals(EPOCHS + 1, rows.size());
        WarmupCosineSchedule schedule = recipe().schedule(TRAIN / BATCH);
        for (int e = 1; e <= EPOCHS; e++) {
            String[] cells = rows.get(e).split(",", -1);
            assertEquals(7, cells.length, rows.get(e));
            assertEquals(e, Integer.parseInt(cells[0]));
            int iteration = Integer.parseInt(cells[1]);
            assertEquals(e * TRAIN / BATCH, iteration);
            assertEquals(schedule.valueAt(iteration - 1, 0), Double.parseDouble(cells[2]),
                    1e-6 * schedule.valueAt(iteration - 1, 0));
            double accuracy = Double.parseDouble(cells[5]);
            assertTrue(accuracy >= 0 && accuracy <= 1 && Double.parseDouble(cells[4]) > 0, rows.get(e));
        }

        BufferedImage png = ImageIO.read(dir.resolve(Trainer.CURVES).toFile());
        assertEquals(MetricsPlot.WIDTH, png.getWidth());
        assertEquals(MetricsPlot.HEIGHT, png.getHeight());
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < png.getHeight(); y += 3) {
            for (int x = 0; x < png.getWidth(); x += 3) {
                colours.add(png.getRGB(x, y));
            }
        }
        assertTrue(colours.size() > 20, "the plot looks empty: " + colours.size() + " colours");

        TrainingState state = TrainingState.read(dir.resolve(Trainer.STATE));
        assertTrue(state.isFinished());
        assertEquals(config, state.getConfig());
        assertEquals(recipe(), state.getRecipe());
        assertEquals(EPOCHS * TRAIN / BATCH, state.getGlobalIteration());

        ComputationGraph last = ModelSerializer.restoreComputationGraph(dir.resolve(Trainer.LAST).toFile(), true);
        assertEquals(trainer.graph().params(), last.params());
        ComputationGraph best = ModelSerializer.restoreComputationGraph(dir.resolve(Trainer.BEST).toFile(), true);
        EvaluationResult bestEvaluation = EvaluationResult.of(best, config, val, null, 3);
        assertEquals(state.getBestAccuracy(), bestEvaluation.accuracy(), 1e-12);
        EpochRecord bestRecord = state.getHistory().get(state.getBestEpoch() - 1);
        assertEquals(bestRecord.getValLoss(), bestEvaluation.loss(), 1e-5);

        // The adapter file holds the best epoch's trainable tensors under the authors' names.
        AdapterFile.Contents adapter = AdapterFile.read(dir.resolve(Trainer.ADAPTER));
        assertEquals(config, adapter.config());
        Map<String, INDArray> bestTensors = AuthorsNames.export(best, config);
        assertEquals(bestTensors.keySet(), adapter.tensors().keys());
        for (Map.Entry<String, INDArray> e : bestTensors.entrySet()) {
            assertArrayEquals(e.getValue().data().asFloat(), adapter.tensors().get(e.getKey()).data().asFloat(),
                    e.getKey());
        }
    }

    @Test
    void permutationIsAFixedShuffleOfTheSeed() {
        int[] a = TrainingBatches.permutation(50, 42 + 3);
        assertArrayEquals(a, TrainingBatches.permutation(50, 45));
        assertFalse(java.util.Arrays.equals(a, TrainingBatches.permutation(50, 46)));
        assertArrayEquals(java.util.stream.IntStream.range(0, 50).toArray(),
                java.util.Arrays.stream(a).sorted().toArray());
    }
}
