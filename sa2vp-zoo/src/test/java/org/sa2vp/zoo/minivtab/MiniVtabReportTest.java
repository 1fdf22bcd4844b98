package org.sa2vp.zoo.minivtab;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sa2vp.zoo.benchmark.SeedSummary;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The results table: per-task and per-group mean ± std over seeds, CSV round trip, markdown and chart. */
class MiniVtabReportTest {

    private static final List<String> METHODS = List.of("linear-probe", "sa2vp");
    private static final List<MiniVtab.Task> TASKS = Arrays.asList(MiniVtab.Task.values());

    /** Accuracy of (task t, method m, seed s) = (100·t + 200·m + 10·s) / 1000 (so every mean and std is known). */
    private static List<MiniVtabBenchmark.Result> synthetic(int seeds) {
        List<MiniVtabBenchmark.Result> results = new ArrayList<>();
        for (MiniVtab.Task task : TASKS) {
            for (int m = 0; m < METHODS.size(); m++) {
                for (int s = 0; s < seeds; s++) {
                    int correct = 100 * task.ordinal() + 200 * m + 10 * s;
                    results.add(new MiniVtabBenchmark.Result(task, METHODS.get(m), 42 + s, m == 0 ? 0.03 : 0.01,
                            correct / 1000.0, correct, 1000, 100 + m, 1.5));
                }
            }
        }
        return results;
    }

    @Test
    void tasksGroupsAndOverallAreMeansOverSeedsWithSampleStd() {
        Map<String, Map<String, SeedSummary>> table = MiniVtabReport.table(synthetic(3), METHODS, TASKS);
        assertEquals(TASKS.size() + 3 + 1, table.size(), "tasks, three groups, overall");
        SeedSummary location = table.get("digit_location").get("sa2vp");
        int t = MiniVtab.Task.DIGIT_LOCATION.ordinal();
        assertEquals(0.1 * t + 0.2 + 0.01, location.mean(), 1e-12);
        assertEquals(0.01, location.std(), 1e-12, "sample std of x, x+0.01, x+0.02");
        assertEquals(3, location.n());
        // Structured: tasks 3, 4, 5 → per-seed means 0.4 + 0.01·s for the probe.
        SeedSummary structured = table.get("Structured (mean)").get("linear-probe");
        assertEquals(0.41, structured.mean(), 1e-12);
        assertEquals(0.01, structured.std(), 1e-12);
        SeedSummary overall = table.get(MiniVtabReport.OVERALL).get("sa2vp");
        assertEquals(0.25 + 0.2 + 0.01, overall.mean(), 1e-12);
    }

    @Test
    void csvRoundTripsAndMarkdownAndChartAreWritten(@TempDir Path dir) throws IOException {
        List<MiniVtabBenchmark.Result> results = synthetic(2);
        Path csv = dir.resolve("results.csv");
        MiniVtabReport.writeCsv(csv, results);
        assertEquals(results, MiniVtabReport.readCsv(csv));
        assertTrue(MiniVtabReport.readCsv(dir.resolve("absent.csv")).isEmpty());

        Map<String, Map<String, SeedSummary>> table = MiniVtabReport.table(results, METHODS, TASKS);
        String md = MiniVtabReport.markdown(table, METHODS);
        assertTrue(md.startsWith("| task | linear-probe | sa2vp |\n|---|---|---|\n"), md);
        assertTrue(md.contains("| twemoji_category | 0.5 ± 0.7 | **20.5 ± 0.7** |"), md);
        assertTrue(md.contains("| **Natural (mean)** |"), md);

        Path png = dir.resolve("results.png");
        MiniVtabReport.writeBarChart(png, table, METHODS, "test");
        BufferedImage image = ImageIO.read(png.toFile());
        assertTrue(image.getWidth() > 600 && image.getHeight() > 400);

        Files.writeString(csv, "task,accuracy\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MiniVtabReport.readCsv(csv));
        assertTrue(e.getMessage().startsWith(csv + ": not a mini-VTAB results file"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    /** Files written before the learning rate was recorded still load: their runs used the fixed recipes. */
    @Test
    void readsTheFixedRecipeLayoutWithTheRecipesRates(@TempDir Path dir) throws IOException {
        Path csv = dir.resolve("results.csv");
        Files.writeString(csv, "task,group,method,seed,accuracy,correct,count,trainable_parameters,seconds\n"
                + "twemoji_category,NATURAL,sa2vp,43,0.450331,408,906,30153,80.2\n");
        assertEquals(List.of(new MiniVtabBenchmark.Result(MiniVtab.Task.TWEMOJI_CATEGORY, "sa2vp", 43, 1e-2,
                0.450331, 408, 906, 30153, 80.2)), MiniVtabReport.readCsv(csv));
        Files.writeString(csv, "task,group,method,seed,accuracy,correct,count,trainable_parameters,seconds\n"
                + "twemoji_category,NATURAL,sa2vp,43,0.03,0.450331,408,906,30153,80.2\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MiniVtabReport.readCsv(csv));
        assertEquals(csv + ":2: expected 9 fields, got 10", e.getMessage());
    }

    @Test
    void learningRatesTableListsEachMethodsRatePerTask() {
        List<MiniVtabBenchmark.Result> results = new ArrayList<>(synthetic(2));
        results.add(new MiniVtabBenchmark.Result(MiniVtab.Task.TEXTURE_PATCH, "sa2vp", 44, 0.0005, 0.5, 500,
                1000, 101, 1.5));
        String md = MiniVtabReport.learningRates(results, METHODS, TASKS);
        assertTrue(md.startsWith("| task | linear-probe | sa2vp |\n|---|---|---|\n"), md);
        assertTrue(md.contains("| twemoji_category | 0.03 | 0.01 |\n"), md);
        assertTrue(md.contains("| texture_patch | 0.03 | 0.0005, 0.01 |\n"), md);
    }
}
