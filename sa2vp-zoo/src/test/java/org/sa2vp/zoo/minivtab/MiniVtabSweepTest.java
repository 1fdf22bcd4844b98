package org.sa2vp.zoo.minivtab;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sa2vp.train.Method;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

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
        List<String> rows = sweep();
        assertEquals(rows, Files.readAllLines(out.resolve("sweep.csv")), "the returned rows are the file's");
        assertEquals(2, rows.size(), "header and one run: " + rows);
        String[] run = rows.get(1).split(",");
        assertEquals("digit_location", run[0]);
        assertEquals("linear-probe", run[1]);
        assertEquals("2", run[3]);
        // 9 location classes: chance is 11 %; the frozen backbone's features place a digit far better than that.
        double accuracy = Double.parseDouble(run[5]);
        assertTrue(accuracy > 0.25, "val200 accuracy " + accuracy);
        assertFalse(Files.exists(out.resolve("run")), "the run folder is deleted");

        assertEquals(rows, sweep(), "a finished run is not repeated");
    }

    @Test
    void refusesAFileThatIsNotASweep() throws Exception {
        Files.writeString(out.resolve("sweep.csv"), "task,method,seed,test_accuracy\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, this::sweep);
        assertTrue(e.getMessage().contains("sweep.csv is not a sweep file"), e.getMessage());
    }

    private List<String> sweep() throws Exception {
        return MiniVtabSweep.run(out, out.resolve("data"), List.of(MiniVtab.Task.fromFolderName("digit_location")),
                List.of(Method.parse("linear-probe")), new double[]{3e-2}, new int[]{2}, 1);
    }
}
