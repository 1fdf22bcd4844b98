package org.sa2vp.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sa2vp.train.Trainer;
import org.sa2vp.zoo.minivtab.MiniVtabReport;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code sa2vp demo} on a folder of images and {@code sa2vp minivtab} on one generated task, both from the bundled
 * backbone, with a single short epoch: every file they promise is written, a rerun reuses finished work, and bad
 * options get one-line errors. (How well the methods learn is {@code Sa2vpLearningTest}'s and the benchmark's job.)
 */
class DemoAndMiniVtabCommandTest {

    /** 3 classes × 20 grey 24×24 PNGs: a bright blob top-left, bottom-right or centre, on noise. */
    private static Path imageFolder(Path root) throws IOException {
        Random random = new Random(1);
        int[][] centres = {{6, 6}, {18, 18}, {12, 12}};
        for (int c = 0; c < 3; c++) {
            Path folder = Files.createDirectories(root.resolve("class_" + c));
            for (int i = 0; i < 20; i++) {
                BufferedImage image = new BufferedImage(24, 24, BufferedImage.TYPE_BYTE_GRAY);
                for (int y = 0; y < 24; y++) {
                    for (int x = 0; x < 24; x++) {
                        double d = Math.hypot(y - centres[c][0], x - centres[c][1]);
                        int v = (int) Math.min(255, 40 * random.nextDouble() + (d < 4 ? 200 : 0));
                        image.getRaster().setSample(x, y, 0, v);
                    }
                }
                ImageIO.write(image, "png", folder.resolve(i + ".png").toFile());
            }
        }
        return root;
    }

    @Test
    void demoOnAFolderWritesCurvesAndTheSimilarityMapAndReusesFinishedRuns(@TempDir Path dir) throws IOException {
        Path data = imageFolder(dir.resolve("images"));
        Path out = dir.resolve("demo");
        String[] args = {"demo", "--data", data.toString(), "--out", out.toString(), "--epochs", "2"};
        CliRun first = CliRun.of(args);
        assertEquals(0, first.code(), first.err());
        assertTrue(first.out().contains("3 classes; 42 training, 9 validation, 9 test images"), first.out());
        for (String line : List.of("  sa2vp ", "  linear-probe ")) {
            assertTrue(first.out().lines().anyMatch(l -> l.startsWith(line) && l.contains("%")), line);
        }
        Path runs = runFolder(out, "images-");
        for (Path file : List.of(out.resolve("curves.png"), out.resolve("similarity.png"),
                runs.resolve("sa2vp").resolve(Trainer.ADAPTER), runs.resolve("linear-probe").resolve(Trainer.METRICS))) {
            assertTrue(Files.size(file) > 0, file.toString());
        }
        BufferedImage figure = ImageIO.read(out.resolve("similarity.png").toFile());
        assertTrue(figure.getWidth() > 4 * 300, "four image/map pairs");

        CliRun again = CliRun.of(args);
        assertEquals(0, again.code(), again.err());
        assertEquals(accuracyLines(first.out()), accuracyLines(again.out()), "a rerun reuses the finished runs");

        CliRun missing = CliRun.of("demo", "--data", dir.resolve("nothing").toString(), "--out", out.toString());
        assertEquals(2, missing.code());
        assertEquals("sa2vp demo: image folder " + dir.resolve("nothing") + " not found", missing.err().strip());
    }

    /** The one run folder in {@code out} whose name starts with {@code prefix}. */
    private static Path runFolder(Path out, String prefix) throws IOException {
        try (var entries = Files.list(out)) {
            List<Path> matches = entries.filter(p -> p.getFileName().toString().startsWith(prefix)).toList();
            assertEquals(1, matches.size(), matches.toString());
            return matches.get(0);
        }
    }

    @Test
    void demoOnATaskThenOnAFolderStartsNewRunsInsteadOfResumingTheOldOnes(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("demo");
        CliRun task = CliRun.of("demo", "--task", "digit_count", "--epochs", "1", "--out", out.toString());
        assertEquals(0, task.code(), task.err());
        Path data = imageFolder(dir.resolve("images"));
        CliRun folder = CliRun.of("demo", "--data", data.toString(), "--epochs", "1", "--out", out.toString());
        assertEquals(0, folder.code(), folder.err());
        assertTrue(Files.exists(runFolder(out, "digit_count-").resolve("sa2vp").resolve(Trainer.ADAPTER)));
        assertTrue(Files.exists(runFolder(out, "images-").resolve("sa2vp").resolve(Trainer.ADAPTER)));
        CliRun moreEpochs = CliRun.of("demo", "--data", data.toString(), "--epochs", "2", "--out", out.toString());
        assertEquals(0, moreEpochs.code(), moreEpochs.err());
        try (var entries = Files.list(out)) {
            assertEquals(2, entries.filter(p -> p.getFileName().toString().startsWith("images-")).count(),
                    "other settings, another run folder");
        }
    }

    private static List<String> accuracyLines(String out) {
        return out.lines().filter(l -> l.startsWith("  sa2vp ") || l.startsWith("  linear-probe ")).toList();
    }

    @Test
    void miniVtabRunsEveryMethodAndSeedAndWritesTheTable(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("bench");
        String[] args = {"minivtab", "--out", out.toString(), "--tasks", "digit_count", "--methods",
                "linear-probe,vpt-shallow", "--seeds", "2", "--epochs", "1", "--workers", "2"};
        CliRun run = CliRun.of(args);
        assertEquals(0, run.code(), run.err());
        List<String> csv = Files.readAllLines(out.resolve("results.csv"));
        assertEquals(1 + 4, csv.size(), "header + 2 methods × 2 seeds");
        String md = Files.readString(out.resolve("results.md"));
        assertTrue(md.contains("| task | linear-probe | vpt-shallow |"), md);
        assertTrue(md.contains("| digit_count |") && md.contains("| **All tasks (mean)** |"), md);
        assertTrue(Files.size(out.resolve("results.png")) > 0);
        assertTrue(Files.exists(out.resolve("data/digit_count/train800val200.txt")), "VTAB-1k layout generated");
        assertTrue(Files.exists(out.resolve("runs/digit_count/vpt-shallow/lr-0.03/seed-43/metrics.csv")));

        CliRun again = CliRun.of(args);
        assertEquals(0, again.code());
        assertEquals(csv, Files.readAllLines(out.resolve("results.csv")), "finished runs are skipped");

        CliRun otherEpochs = CliRun.of("minivtab", "--out", out.toString(), "--tasks", "digit_count", "--epochs", "3");
        assertEquals(2, otherEpochs.code());
        assertEquals("sa2vp minivtab: " + out + " holds results of epochs=1; use another --out for epochs=3",
                otherEpochs.err().strip());
        CliRun badTask = CliRun.of("minivtab", "--out", dir.resolve("x").toString(), "--tasks", "cifar");
        assertEquals(2, badTask.code());
        assertTrue(badTask.err().strip().startsWith("sa2vp minivtab: unknown mini-VTAB task 'cifar'; expected one of"),
                badTask.err());
    }

    /**
     * --lr-factors: every candidate rate is scored on val200 first, the grid is widened past the edge that scored
     * best (--lr-widen 1: once), and the final runs use the best rate of all; a rerun with a wider grid reruns the
     * final run whose rate it changes.
     */
    @Test
    void miniVtabChoosesEachMethodsLearningRateOnVal200(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("bench");
        String[] args = {"minivtab", "--out", out.toString(), "--tasks", "digit_count", "--methods", "linear-probe",
                "--seeds", "1", "--epochs", "1", "--workers", "2", "--lr-factors", "0.1,1", "--lr-widen", "1"};
        CliRun run = CliRun.of(args);
        assertEquals(0, run.code(), run.err());
        Map<String, Double> scores = selectionScores(out);
        assertEquals(3, scores.size(), "the probe's rate 0.03 × 0.1 and × 1, then one past the better: " + scores);
        String widened = scores.get("0.03") > scores.get("0.003") ? "0.09" : "0.001";
        assertTrue(scores.containsKey(widened), widened + " was scored: " + scores);
        String chosen = best(scores);
        List<String> csv = Files.readAllLines(out.resolve("results.csv"));
        assertEquals(2, csv.size());
        assertEquals(chosen, csv.get(1).split(",")[4], "the final run uses the rate with the best val200 score");
        assertTrue(Files.exists(out.resolve("runs/digit_count/linear-probe/lr-" + chosen + "/seed-42/metrics.csv")));
        String md = Files.readString(out.resolve("results.md"));
        assertTrue(md.contains("## Learning rates\n\nChosen per task and method on val200 among the recipe's rate "
                + "times [0.1, 1.0], widened 3× past the grid's edge up to 1 times") && md.contains(
                "| digit_count | " + chosen + " |"), md);

        CliRun plain = CliRun.of("minivtab", "--out", out.toString(), "--tasks", "digit_count", "--epochs", "1");
        assertEquals(2, plain.code());
        assertEquals("sa2vp minivtab: " + out + " holds results of epochs=1 lr-factors=[0.1, 1.0] lr-widen=1; use "
                + "another --out for epochs=1", plain.err().strip());

        // Scores that move the choice (here edited by hand) make the next run redo the final run at the new rate.
        boolean widenedWon = chosen.equals(widened);
        List<String> rows = new ArrayList<>();
        for (String row : Files.readAllLines(out.resolve("selection.csv"))) {
            String[] f = row.split(",");
            if (!f[2].equals("lr") && MiniVtabReport.learningRate(Double.parseDouble(f[2])).equals(widened)) {
                f[5] = widenedWon ? "0.0000" : "1.0000";
            }
            rows.add(String.join(",", f));
        }
        Files.write(out.resolve("selection.csv"), rows);
        scores.remove(widened);
        String now = widenedWon ? best(scores) : widened;
        CliRun again = CliRun.of(args);
        assertEquals(0, again.code(), again.err());
        List<String> rerun = Files.readAllLines(out.resolve("results.csv"));
        assertEquals(2, rerun.size(), "one final run per seed: " + rerun);
        assertEquals(now, rerun.get(1).split(",")[4]);
        assertTrue(again.out().contains("digit_count, linear-probe, seed 42: the chosen rate is now " + now + ", not "
                + chosen + ": running it again"), again.out());
    }

    /** selection.csv's val200 accuracy by learning rate, as results.md writes rates (0.09, not 0.0900000). */
    private static Map<String, Double> selectionScores(Path out) throws IOException {
        Map<String, Double> scores = new TreeMap<>();
        List<String> rows = Files.readAllLines(out.resolve("selection.csv"));
        for (String row : rows.subList(1, rows.size())) {
            String[] f = row.split(",");
            assertEquals("42", f[4], "seed 42 only");
            scores.put(MiniVtabReport.learningRate(Double.parseDouble(f[2])), Double.parseDouble(f[5]));
        }
        return scores;
    }

    /** The best rate, the smaller on a tie (as MiniVtabSweep.Sheet chooses). */
    private static String best(Map<String, Double> scores) {
        return scores.entrySet().stream().min(Comparator.<Map.Entry<String, Double>>comparingDouble(
                e -> -e.getValue()).thenComparingDouble(e -> Double.parseDouble(e.getKey()))).orElseThrow().getKey();
    }

    /** The sweep's options are checked before any training (its runs are MiniVtabSweepTest's). */
    @Test
    void miniVtabSweepRejectsBadOptionsInOneLine(@TempDir Path dir) {
        String out = dir.resolve("sweep").toString();
        CliRun zeroLr = CliRun.of("minivtab-sweep", "--out", out, "--lrs", "1e-2,0");
        assertEquals(2, zeroLr.code());
        assertEquals("sa2vp minivtab-sweep: --lrs must be positive, got 0.0", zeroLr.err().strip());
        CliRun badMethod = CliRun.of("minivtab-sweep", "--out", out, "--methods", "lora");
        assertEquals(2, badMethod.code());
        assertTrue(badMethod.err().strip().startsWith("sa2vp minivtab-sweep: "), badMethod.err());
        assertFalse(Files.exists(dir.resolve("sweep").resolve("sweep.csv")), "nothing was written");
    }
}
