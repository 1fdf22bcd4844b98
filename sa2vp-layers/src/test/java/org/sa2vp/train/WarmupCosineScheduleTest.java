package org.sa2vp.train;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.InputStream;
import java.util.Iterator;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link WarmupCosineSchedule} against the authors' learning-rate schedule ({@code docs/AUTHORS-CODE.md} §1.7) computed with numpy
 * ({@code tools/reference/train/cosine_schedule.py} → {@code fixtures/train/cosine_schedule.json}): the paper's
 * VTAB-1k settings at batch 64 and 40, the argparse defaults, a one-iteration warm-up and no warm-up.
 */
class WarmupCosineScheduleTest {

    @Test
    void matchesTheAuthorsNumpySchedule() throws Exception {
        JsonNode root;
        try (InputStream in = getClass().getResourceAsStream("/fixtures/train/cosine_schedule.json")) {
            root = new ObjectMapper().readTree(in);
        }
        int checked = 0;
        double worst = 0;
        for (JsonNode c : root.get("cases")) {
            int perEpoch = c.get("iterationsPerEpoch").asInt();
            TrainingRecipe recipe = TrainingRecipe.builder().learningRate(c.get("lr").asDouble())
                    .minLearningRate(c.get("minLr").asDouble()).epochs(c.get("epochs").asInt())
                    .warmupEpochs(c.get("warmupEpochs").asInt()).build();
            WarmupCosineSchedule schedule = recipe.schedule(perEpoch);
            assertEquals(c.get("total").asInt(), schedule.getTotalIterations());
            int warmup = schedule.getWarmupIterations();
            Iterator<Map.Entry<String, JsonNode>> values = c.get("values").fields();
            while (values.hasNext()) {
                Map.Entry<String, JsonNode> e = values.next();
                int i = Integer.parseInt(e.getKey());
                double expected = e.getValue().asDouble();
                double actual = schedule.valueAt(i, i / perEpoch);
                if (i < warmup) {
                    // Same arithmetic as numpy's linspace: bitwise equal.
                    assertEquals(expected, actual, 0.0, c.get("name").asText() + " iteration " + i);
                } else {
                    double error = Math.abs(actual - expected);
                    worst = Math.max(worst, error / Math.max(expected, 1e-300));
                    assertTrue(error <= 4 * Math.ulp(expected), c.get("name").asText() + " iteration " + i
                            + ": " + actual + " vs numpy " + expected);
                }
                checked++;
            }
            int last = c.get("total").asInt() - 1;
            double end = c.get("values").get(String.valueOf(last)).asDouble();
            assertEquals(schedule.valueAt(last, 0), schedule.valueAt(last + 1, 0), 0.0, "stays at the last value");
            assertEquals(end, schedule.valueAt(last + 1000, 0), 4 * Math.ulp(end));
        }
        System.out.printf("%d schedule values checked against numpy, worst relative error %.1e%n", checked, worst);
        assertTrue(checked >= 40, "fixture too small: " + checked);
    }

    @Test
    void firstStepIsZeroAndWarmupEndsAtTheBaseValue() {
        WarmupCosineSchedule s = new WarmupCosineSchedule(1e-3, 1e-7, 150, 1500);
        assertEquals(0.0, s.valueAt(0, 0), 0.0);
        assertEquals(1e-3, s.valueAt(149, 9), 0.0);
        assertEquals(1e-3, s.valueAt(150, 10), 0.0);
        assertTrue(s.valueAt(151, 10) < 1e-3);
        assertEquals(1e-7, s.valueAt(1499, 99), 1e-8);
    }

    @Test
    void serialisesLikeDl4jSchedules() throws Exception {
        ISchedule schedule = new WarmupCosineSchedule(2e-3, 1e-6, 7, 40);
        ObjectMapper json = new ObjectMapper();
        String text = json.writeValueAsString(schedule);
        assertTrue(text.contains("\"@class\":\"org.sa2vp.train.WarmupCosineSchedule\""), text);
        ISchedule back = json.readValue(text, ISchedule.class);
        assertInstanceOf(WarmupCosineSchedule.class, back);
        assertEquals(schedule, back);
        for (int i = 0; i < 45; i++) {
            assertEquals(schedule.valueAt(i, 0), back.valueAt(i, 0), 0.0);
        }
        assertEquals(schedule, schedule.clone());
    }

    @Test
    void rejectsInconsistentLengths() {
        assertThrows(IllegalArgumentException.class, () -> new WarmupCosineSchedule(1e-3, 0, 11, 10));
        assertThrows(IllegalArgumentException.class, () -> new WarmupCosineSchedule(1e-3, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new WarmupCosineSchedule(1e-3, 0, -1, 10));
    }
}
