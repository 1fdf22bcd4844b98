package org.sa2vp.zoo.minivtab;

import org.junit.jupiter.api.Test;
import org.sa2vp.train.TrainingRecipe;
import org.sa2vp.zoo.PretrainedTinyVit;
import org.sa2vp.zoo.benchmark.Benchmark;
import org.sa2vp.zoo.benchmark.BenchmarkRecipes;
import org.sa2vp.zoo.benchmark.Benchmarks;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The mini-VTAB tasks are registered benchmarks whose rows are the mini-VTAB benchmark's own facts: the task's classes
 * and group, and from the committed {@code docs/minivtab/results.csv} (which the jar carries) SA2VP's chosen learning
 * rate and mean accuracy; their configuration and recipe are the ones {@code sa2vp minivtab} trains.
 */
class MiniVtabBenchmarksTest {

    @Test
    void everyTaskIsARowDerivedFromTheCommittedTable() {
        List<MiniVtabBenchmark.Result> committed = MiniVtabReport.readCsv(Path.of("../docs/minivtab/results.csv"));
        assertEquals(committed, MiniVtabBenchmarks.committedResults(), "the jar carries the committed file");
        List<Benchmark> rows = Benchmarks.group(MiniVtabBenchmarks.SUITE);
        assertEquals(Arrays.stream(MiniVtab.Task.values()).map(MiniVtabBenchmarks::id).toList(),
                rows.stream().map(Benchmark::id).toList());
        for (MiniVtab.Task task : MiniVtab.Task.values()) {
            Benchmark b = Benchmarks.get(MiniVtabBenchmarks.id(task));
            assertEquals(task.numClasses(), b.classes(), b.id());
            assertEquals(task.group().name().toLowerCase(Locale.ROOT), b.group(), b.id());
            List<MiniVtabBenchmark.Result> sa2vp = committed.stream()
                    .filter(r -> r.task() == task && r.method().equals("sa2vp")).toList();
            assertEquals(3, sa2vp.size(), b.id());
            assertEquals(sa2vp.get(0).learningRate(), b.vit().learningRate(), b.id());
            assertEquals(100 * sa2vp.stream().mapToDouble(MiniVtabBenchmark.Result::accuracy).average().orElseThrow(),
                    b.paperVit(), 0.005, b.id());
        }
        // docs/MINIVTAB.md's table, SA2VP column: digit_location 86.7, texture_patch 89.0
        assertEquals(86.7, Benchmarks.get("minivtab/digit_location").paperVit(), 0.05);
        assertEquals(0.09, Benchmarks.get("minivtab/digit_location").vit().learningRate());
        assertEquals(89.0, Benchmarks.get("minivtab/texture_patch").paperVit(), 0.05);
    }

    @Test
    void theBenchmarkPathTrainsWhatSa2vpMinivtabTrains() {
        for (MiniVtab.Task task : MiniVtab.Task.values()) {
            Benchmark b = Benchmarks.get(MiniVtabBenchmarks.id(task));
            assertEquals(MiniVtabBenchmark.method("sa2vp", PretrainedTinyVit.CONFIG.headless(), task.numClasses())
                            .toJson(), BenchmarkRecipes.method(b, "sa2vp", PretrainedTinyVit.CONFIG).toJson(), b.id());
            TrainingRecipe expected = MiniVtabBenchmark.recipe("sa2vp", 42, MiniVtabBenchmark.EPOCHS)
                    .withLearningRate(b.vit().learningRate());
            // The evaluation batch only changes how many test images are scored at once.
            assertEquals(expected.toBuilder().evalBatchSize(0).build(), BenchmarkRecipes.recipe(b), b.id());
        }
    }
}
