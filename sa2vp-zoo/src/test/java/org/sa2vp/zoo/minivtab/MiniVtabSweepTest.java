package org.sa2vp.zoo.minivtab;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sa2vp.data.VtabTask;
import org.sa2vp.method.TuningMethods;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The validation sweep: scores on val200 above chance, keeps no run folder, and skips finished rows on a rerun. */
class MiniVtabSweepTest {

    @TempDir
    Path out;

    @Test
    void trainsOnTrain800ScoresOnVal200AndResumes() throws Exception {
        List<MiniVtabSweep.Score> scores = sweep();
        List<String> rows = Files.readAllLines(out.resolve("sweep.csv"));
        assertEquals(List.of(MiniVtabSweep.HEADER), rows.subList(0, 1));
        assertEquals(2, rows.size(), "header and one run: " + rows);
        assertEquals(1, scores.size());
        String[] run = rows.get(1).split(",");
        assertEquals("digit_location", run[0]);
        assertEquals("linear-probe", run[1]);
        assertEquals(0.03, Double.parseDouble(run[2]), 0.0);
        assertEquals("2", run[3]);
        // 9 location classes: chance is 11 %; the frozen backbone's features place a digit far better than that.
        double accuracy = Double.parseDouble(run[5]);
        assertTrue(accuracy > 0.25, "val200 accuracy " + accuracy);
        assertEquals(accuracy, scores.get(0).accuracy(), 1e-4);
        assertFalse(Files.exists(out.resolve("run")), "the run folder is deleted");

        assertEquals(1, sweep().size(), "a finished run is not repeated");
        assertEquals(rows, Files.readAllLines(out.resolve("sweep.csv")));
    }

    /** The best rate by mean val200 accuracy over seeds; ties go to the smaller rate; a missing score is an error. */
    @Test
    void bestLearningRateAveragesSeedsAndPrefersTheSmallerOnATie() throws Exception {
        MiniVtab.Task task = MiniVtab.Task.fromFolderName("digit_count");
        String sa2vp = TuningMethods.canonicalName("sa2vp");
        MiniVtabSweep.Sheet sheet = new MiniVtabSweep.Sheet(out.resolve("sweep.csv"));
        double[][] runs = {{0.01, 42, 0.60}, {0.01, 43, 0.70}, {0.03, 42, 0.66}, {0.03, 43, 0.66}, {0.1, 42, 0.64},
            {0.1, 43, 0.68}};
        for (double[] r : runs) {
            sheet.add(new MiniVtabSweep.Score(new MiniVtabSweep.Run(task, sa2vp, r[0], 5, (long) r[1]), r[2], 1));
        }
        // means: 0.65, 0.66, 0.66; 3 × 0.01 must find the 0.03 rows
        assertEquals(0.03, sheet.bestLearningRate(task, sa2vp, 5, new double[]{0.1, 3 * 0.01, 0.01}), 1e-12);
        assertEquals(0.01, sheet.bestLearningRate(task, sa2vp, 5, new double[]{0.01}), 0.0);
        MiniVtabSweep.Sheet reread = new MiniVtabSweep.Sheet(out.resolve("sweep.csv"));
        assertEquals(sheet.scores().size(), reread.scores().size());
        assertTrue(reread.has(new MiniVtabSweep.Run(task, sa2vp, 0.1, 5, 43)));
        IllegalStateException missing = assertThrows(IllegalStateException.class,
                () -> reread.bestLearningRate(task, sa2vp, 10, new double[]{0.01}));
        assertEquals(out.resolve("sweep.csv") + " has no score for digit_count, sa2vp, lr 0.0100000, 10 epochs",
                missing.getMessage());
    }

    /** A best rate at the grid's edge asks for the next rate past it (rounded as the sheet writes it); inside: none. */
    @Test
    void widenLooksPastTheEdgeWhereTheBestRateIs() {
        double[] grid = {0.03, 0.009, 0.09};
        assertEquals(0.27, MiniVtabSweep.widen(grid, 0.09, 3), 0.0);
        assertEquals(0.003, MiniVtabSweep.widen(grid, 0.009, 3), 0.0);
        assertTrue(Double.isNaN(MiniVtabSweep.widen(grid, 0.03, 3)));
        assertEquals(0.81, MiniVtabSweep.widen(new double[]{0.27, 0.03, 0.009, 0.09}, 3 * 0.09 * 1.0000001, 3), 0.0);
        assertTrue(Double.isNaN(MiniVtabSweep.widen(new double[]{0.03}, 0.03, 3)), "one rate has no edge to pass");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MiniVtabSweep.widen(grid, 0.09, 1));
        assertEquals("step must be > 1, got 1.0", e.getMessage());
    }

    @Test
    void refusesAFileThatIsNotASweep() throws Exception {
        Files.writeString(out.resolve("sweep.csv"), "task,method,seed,test_accuracy\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, this::sweep);
        assertTrue(e.getMessage().contains("sweep.csv is not a sweep file"), e.getMessage());
    }

    private List<MiniVtabSweep.Score> sweep() {
        MiniVtab.Task task = MiniVtab.Task.fromFolderName("digit_location");
        Path data = out.resolve("data");
        if (!Files.exists(data.resolve(task.folderName()))) {
            MiniVtab.generate(data, MiniVtab.DEFAULT_SEED, task);
        }
        return MiniVtabSweep.run(out, Map.of(task, VtabTask.open(data.resolve(task.folderName()))),
                List.of(TuningMethods.canonicalName("linear-probe")), new double[]{3e-2}, new int[]{2}, 1);
    }
}
