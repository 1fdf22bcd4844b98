package org.sa2vp.train;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.sa2vp.data.LabelledImages;
import org.sa2vp.layers.Implementation;
import org.sa2vp.model.AuthorsNames;
import org.sa2vp.model.Sa2vpConfig;
import org.sa2vp.model.Sa2vpModel;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link TrainingRecipe}: the paper's defaults, JSON, and that one DL4J step of the graph it configures is a
 * {@code torch.optim.AdamW} step, computed here by hand (float64) from the gradients under the authors' names:
 * decoupled decay on exactly the tensors the authors decay (ndim &gt; 1 and not {@code .bias}), none on biases and
 * LayerNorm vectors, frozen parameters bitwise unchanged, the per-iteration schedule (lr 0 on the first step).
 */
class TrainingRecipeTest {

    private static final double LR = 0.05;
    private static final double MIN_LR = 1e-4;
    private static final double WD = 0.3;
    private static final int BATCH = 4;

    @Test
    void defaultsAreThePaperScripts() {
        TrainingRecipe r = TrainingRecipe.paper();
        assertEquals(1e-3, r.getLearningRate());
        assertEquals(1e-7, r.getMinLearningRate());
        assertEquals(1e-4, r.getWeightDecay());
        assertEquals(0.9, r.getBeta1());
        assertEquals(0.999, r.getBeta2());
        assertEquals(1e-8, r.getEpsilon());
        assertEquals(100, r.getEpochs());
        assertEquals(10, r.getWarmupEpochs());
        assertEquals(64, r.getBatchSize());
        assertTrue(r.isDropLast());
        assertEquals(1, r.getEvalEveryEpochs());
        assertEquals(256, r.effectiveEvalBatchSize());
        assertEquals(42, r.getSeed());
        assertEquals(15, r.iterationsPerEpoch(1000));
        assertEquals(25, r.withBatchSize(40).iterationsPerEpoch(1000));
        assertEquals(16, r.withDropLast(false).iterationsPerEpoch(1000));
        assertThrows(IllegalArgumentException.class, () -> r.iterationsPerEpoch(63));
        assertThrows(IllegalArgumentException.class, () -> r.withWarmupEpochs(101).validated());
    }

    @Test
    void jsonRoundTrip() {
        TrainingRecipe r = TrainingRecipe.paper().withLearningRate(5e-4).withEpochs(30).withDataType(DataType.DOUBLE);
        assertEquals(r, TrainingRecipe.fromJson(r.toJson()));
        ComputationGraphConfiguration conf = Sa2vpModel.configuration(TinySa2vp.config(0), r.globals(7),
                Implementation.FAST);
        String json = conf.toJson();
        assertTrue(json.contains("org.sa2vp.train.TorchAdam") && json.contains("org.sa2vp.train.WarmupCosineSchedule"),
                "updater and schedule are stored in the network configuration");
        assertEquals(conf, ComputationGraphConfiguration.fromJson(json));
    }

    /** The hand-written AdamW step of one authors-named tensor. */
    private static final class Moments {
        final double[] m;
        final double[] v;

        Moments(int n) {
            m = new double[n];
            v = new double[n];
        }
    }

    private static double[] values(INDArray a) {
        return a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
    }

    /** lr of iteration {@code i} of the 2-iteration warm-up + 4-iteration cosine schedule, from the formula. */
    private static double expectedLr(int i) {
        return switch (i) {
            case 0 -> 0.0;
            case 1 -> LR;
            default -> MIN_LR + 0.5 * (LR - MIN_LR) * (1 + Math.cos(Math.PI * (i - 2) / 4));
        };
    }

    @Test
    void oneDl4jStepIsTorchAdamW() {
        DataType previous = Nd4j.defaultFloatingPointType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        try {
            Sa2vpConfig config = TinySa2vp.config(0.0);
            TrainingRecipe recipe = TrainingRecipe.builder().learningRate(LR).minLearningRate(MIN_LR).weightDecay(WD)
                    .epochs(3).warmupEpochs(1).batchSize(BATCH).dataType(DataType.DOUBLE).build();
            ComputationGraph graph = new ComputationGraph(Sa2vpModel.configuration(config, recipe.globals(2),
                    Implementation.FAST));
            graph.init();
            LabelledImages.Batch batch = TinySa2vp.data(BATCH, 7).batch(new int[]{0, 1, 2, 3});
            INDArray x = batch.images().castTo(DataType.DOUBLE);
            MultiDataSet data = new MultiDataSet(new INDArray[]{x},
                    Sa2vpModel.labels(Trainer.oneHot(batch.labels(), TinySa2vp.CLASSES, DataType.DOUBLE)));
            Set<String> trainable = TinySa2vp.trainableKeys(config);
            Map<String, Moments> moments = new HashMap<>();
            double b1 = recipe.getBeta1(), b2 = recipe.getBeta2(), eps = recipe.getEpsilon();
            int decayed = 0, notDecayed = 0;
            for (int step = 0; step < 4; step++) {
                Map<String, INDArray> before = AuthorsNames.export(graph, config);
                Map<String, INDArray> all = TinySa2vp.allParameters(graph);
                graph.setInputs(x);
                graph.setLabels(data.getLabels());
                graph.computeGradientAndScore();
                Map<String, INDArray> grads = AuthorsNames.export(AuthorsNames.Tables.gradients(graph), config);
                graph.fit(data);
                assertEquals(step + 1, graph.getIterationCount());
                Map<String, INDArray> after = AuthorsNames.export(graph, config);

                double lr = expectedLr(step);
                assertEquals(lr, recipe.schedule(2).valueAt(step, step / 2), 1e-15);
                int t = step + 1;
                double bc1 = 1 - Math.pow(b1, t), bc2Sqrt = Math.sqrt(1 - Math.pow(b2, t));
                double worst = 0;
                for (String name : before.keySet()) {
                    double[] p = values(before.get(name));
                    double[] g = values(grads.get(name));
                    double[] actual = values(after.get(name));
                    Moments mv = moments.computeIfAbsent(name, k -> new Moments(p.length));
                    // torch's AdamW decays "ndim > 1 and not .bias" (authors' get_parameter_groups).
                    boolean decay = before.get(name).rank() > 1 && !name.endsWith(".bias");
                    if (step == 0) {
                        if (decay) {
                            decayed++;
                        } else {
                            notDecayed++;
                        }
                    }
                    for (int i = 0; i < p.length; i++) {
                        double gi = g[i] / BATCH;                          // DL4J sums over the batch
                        mv.m[i] = b1 * mv.m[i] + (1 - b1) * gi;
                        mv.v[i] = b2 * mv.v[i] + (1 - b2) * gi * gi;
                        double expected = p[i] * (1 - lr * (decay ? WD : 0.0))
                                - lr / bc1 * mv.m[i] / (Math.sqrt(mv.v[i]) / bc2Sqrt + eps);
                        double error = Math.abs(actual[i] - expected);
                        worst = Math.max(worst, error);
                        assertTrue(error <= 1e-12, "step " + step + " " + name + "[" + i + "]: " + actual[i]
                                + " vs AdamW " + expected);
                    }
                    if (lr == 0) {
                        assertEquals(before.get(name), after.get(name), "lr 0 must leave " + name + " unchanged");
                    }
                }
                Map<String, INDArray> allAfter = TinySa2vp.allParameters(graph);
                int frozen = 0;
                for (Map.Entry<String, INDArray> e : all.entrySet()) {
                    if (!trainable.contains(e.getKey())) {
                        assertEquals(e.getValue(), allAfter.get(e.getKey()), "frozen " + e.getKey() + " changed");
                        frozen++;
                    } else if (lr > 0) {
                        assertFalse(e.getValue().equals(allAfter.get(e.getKey())), e.getKey() + " did not move");
                    }
                }
                System.out.printf("step %d: lr %.5f, %d authors' tensors max |DL4J − AdamW| %.1e, %d frozen "
                        + "arrays unchanged%n", step, lr, before.size(), worst, frozen);
                assertTrue(frozen > 30, "frozen parameter arrays found: " + frozen);
            }
            // ppt, ppt_proj.weight, cross_conv, deep_ppt, deep_proj.0.weight, 3 × ffn.fc{1,2}.weight, class_head.weight
            assertEquals(12, decayed);
            // ppt_proj.bias, deep_proj.0.bias, 3 × (ffn_norm.{weight,bias}, ffn.fc{1,2}.bias), class_head.bias
            assertEquals(15, notDecayed);
        } finally {
            Nd4j.setDefaultDataTypes(previous, previous);
        }
    }

    /**
     * Why {@link TorchAdam} exists: DL4J's own Adam (native {@code adam_updater}) moves the parameters on a step
     * with learning rate 0, the first step of the SA2VP warm-up, where torch's AdamW leaves them unchanged.
     */
    @Test
    void dl4jAdamMovesParametersAtLearningRateZero() {
        Sa2vpConfig config = TinySa2vp.config(0.0);
        TrainingRecipe recipe = TrainingRecipe.builder().epochs(3).warmupEpochs(1).batchSize(BATCH).build();
        NeuralNetConfiguration.Builder dl4jAdam = new NeuralNetConfiguration.Builder().seed(42)
                .dataType(DataType.FLOAT).updater(new Adam(recipe.schedule(2))).weightDecay(1e-4, true);
        LabelledImages.Batch batch = TinySa2vp.data(BATCH, 7).batch(new int[]{0, 1, 2, 3});
        MultiDataSet data = new MultiDataSet(new INDArray[]{batch.images()},
                Sa2vpModel.labels(Trainer.oneHot(batch.labels(), TinySa2vp.CLASSES, DataType.FLOAT)));
        double[] moved = new double[2];
        int k = 0;
        for (NeuralNetConfiguration.Builder globals : new NeuralNetConfiguration.Builder[]{dl4jAdam,
                recipe.globals(2)}) {
            ComputationGraph graph = new ComputationGraph(Sa2vpModel.configuration(config, globals,
                    Implementation.FAST));
            graph.init();
            Map<String, INDArray> before = AuthorsNames.export(graph, config);
            graph.fit(data);
            Map<String, INDArray> after = AuthorsNames.export(graph, config);
            for (String name : before.keySet()) {
                moved[k] = Math.max(moved[k], after.get(name).sub(before.get(name)).amaxNumber().doubleValue());
            }
            k++;
        }
        System.out.printf("first step (lr 0): DL4J Adam moves trainable values by up to %.1e, TorchAdam by %.1e%n",
                moved[0], moved[1]);
        assertTrue(moved[0] > 0, "DL4J's Adam no longer moves parameters at lr 0: TorchAdam may be unnecessary");
        assertEquals(0.0, moved[1], 0.0);
    }
}
