package org.sa2vp.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sa2vp.data.VtabTask;
import org.sa2vp.train.ProgressBar;
import org.sa2vp.zoo.PretrainedTinyVit;
import org.sa2vp.model.Sa2vpSwinConfig;
import org.sa2vp.train.Trainer;
import org.sa2vp.train.TrainingState;
import org.sa2vp.zoo.benchmark.BenchmarkRecipes;
import org.sa2vp.zoo.benchmark.BenchmarkResult;
import org.sa2vp.zoo.benchmark.Benchmarks;
import org.sa2vp.zoo.minivtab.MiniVtab;
import org.sa2vp.zoo.minivtab.MiniVtabBenchmark;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One command per table cell, on a registered mini-VTAB benchmark and the bundled backbone: {@code train --benchmark}
 * trains exactly what {@code sa2vp minivtab} trains (same test accuracy to the image), {@code table} assembles the
 * finished runs with the gaps shown, {@code ablate} runs a Table 5 variant through the same path and skips finished
 * runs; bad input is one line before any training.
 */
class BenchmarkCommandsTest {

    @TempDir
    static Path dir;

    static Path data;

    private static final String BACKBONE = "zoo:" + PretrainedTinyVit.NAME;

    @BeforeAll
    static void generate() {
        data = MiniVtab.generate(dir.resolve("data"), MiniVtab.DEFAULT_SEED, MiniVtab.Task.DIGIT_LOCATION);
    }

    @Test
    void oneCommandPerCellTablesAndAblations() throws Exception {
        Path runs = dir.resolve("runs");
        CliRun train = CliRun.of("train", "--benchmark", "minivtab/digit_location", "--data", data.toString(),
                "--backbone", BACKBONE, "--out", runs.resolve("cell").toString(), "--epochs", "1");
        assertEquals(0, train.code(), train.err());
        BenchmarkResult cell = BenchmarkResult.read(runs.resolve("cell").resolve(BenchmarkResult.FILE));
        assertEquals("intact", cell.variant());
        assertEquals("TRAINVAL_TEST", cell.splitMode());
        assertTrue(train.out().contains(cell.paperLine()), train.out());
        assertTrue(train.err().contains("training on train800val200 (1000 images), evaluating every epoch on test "
                + "(1000 images); 9 classes"), train.err());

        // The same run through the mini-VTAB benchmark's own runner: the same network, data and recipe.
        MiniVtabBenchmark.Result reference = MiniVtabBenchmark.run(MiniVtab.Task.DIGIT_LOCATION,
                MiniVtabBenchmark.Splits.finals(VtabTask.open(data)), "sa2vp", 42, 1, 0.09,
                PretrainedTinyVit.backbone(), dir.resolve("reference"),
                new ProgressBar(new PrintStream(OutputStream.nullOutputStream()), false));
        assertEquals(reference.accuracy(), cell.lastAccuracy(), "same test images right: " + reference.correct());
        assertTrue(cell.lastAccuracy() > 0.5, "one epoch learns the 3x3 grid: " + cell.lastAccuracy());

        CliRun ablate = CliRun.of("ablate", "--benchmark", "minivtab/digit_location", "--data", data.toString(),
                "--backbone", BACKBONE, "--out", runs.resolve("ablate").toString(), "--epochs", "1", "--seeds", "1",
                "--variants", "no-spatial-alignment");
        assertEquals(0, ablate.code(), ablate.err());
        Path variantRun = runs.resolve("ablate/minivtab/digit_location/no-spatial-alignment/seed-42");
        BenchmarkResult global = BenchmarkResult.read(variantRun.resolve(BenchmarkResult.FILE));
        assertEquals("no-spatial-alignment", global.variant());
        assertTrue(Files.readString(variantRun.resolve("state.json")).contains("\"GLOBAL\""));
        String again = CliRun.of("ablate", "--benchmark", "minivtab/digit_location", "--data", data.toString(),
                "--backbone", BACKBONE, "--out", runs.resolve("ablate").toString(), "--epochs", "1", "--seeds", "1",
                "--variants", "no-spatial-alignment").out();
        assertTrue(again.startsWith("| benchmark |") && ablate.out().endsWith(again), "finished runs are read, not "
                + "trained again: only the table is printed\n" + again);

        CliRun table = CliRun.of("table", "--benchmark", "minivtab", "--runs", runs.toString(), "--last-epoch");
        assertEquals(0, table.code(), table.err());
        String[] lines = table.out().split("\n");
        assertEquals("| benchmark | sa2vp intact | sa2vp no-spatial-alignment | published |", lines[0]);
        String row = Arrays.stream(lines).filter(l -> l.startsWith("| minivtab/digit_location ")).findFirst()
                .orElseThrow();
        assertEquals(String.format(java.util.Locale.ROOT, "| minivtab/digit_location | %.1f (1) | %.1f (1) | 86.7 |",
                100 * cell.lastAccuracy(), 100 * global.lastAccuracy()), row);
        assertTrue(table.out().contains("| minivtab/digit_count | — | — | 79.5 |"), table.out());
        assertTrue(table.out().contains("| **All (mean)** | — (1 of 6) | — (1 of 6) | 73.0 |"), table.out());
    }

    @Test
    void archiveBenchmarksRunThroughTheSamePath() throws Exception {
        // CIFAR-100 as a Python 3 re-pickle (the fixture made by tools/reference/make_archive_fixtures.py): pixel
        // arrays in memory instead of image files, the same command and result.
        Path archive = Path.of("../sa2vp-layers/src/test/resources/fixtures/archives/cifar-100-python");
        Path run = dir.resolve("cifar-100");
        CliRun train = CliRun.of("train", "--benchmark", "hta/cifar-100", "--data", archive.toString(), "--backbone",
                BACKBONE, "--out", run.toString(), "--epochs", "1", "--batch-size", "4");
        assertEquals(0, train.code(), train.err());
        assertTrue(train.err().contains("training on train (8 images), evaluating every epoch on test (5 images); "
                + "100 classes; images resized (shorter_side) to 32×32, 1 channel"), train.err());
        BenchmarkResult result = BenchmarkResult.read(run.resolve(BenchmarkResult.FILE));
        assertEquals("hta/cifar-100", result.benchmark());
        assertTrue(train.out().contains(result.paperLine()) && result.paperLine().endsWith("published 91.3 (Table 2)"),
                train.out());
        java.util.List<String> classes = Files.readAllLines(run.resolve("classes.txt"));
        assertEquals(100, classes.size());
        assertEquals("class_99", classes.get(99));
    }

    /**
     * {@code train --benchmark} with a Swin checkpoint builds SA2VP-Swin with the row's Swin settings (KITTI
     * distance: rank 8, adapter 8, γ 1.5, 4 classes) on a VTAB-1k list tree of 40×40 images, one per class.
     */
    @Test
    void aSwinBackboneTrainsSa2vpSwinWithTheRowsSwinSettings() throws Exception {
        Path tree = Files.createDirectories(dir.resolve("kitti").resolve("images"));
        java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(40, 40,
                java.awt.image.BufferedImage.TYPE_INT_RGB);
        for (String split : java.util.List.of("train800", "val200", "train800val200", "test")) {
            StringBuilder lines = new StringBuilder();
            for (int c = 0; c < 4; c++) {
                image.setRGB(c, c, 0x204060 * (c + 1));
                Path file = tree.resolve(split + "_" + c + ".png");
                javax.imageio.ImageIO.write(image, "png", file.toFile());
                lines.append("images/").append(file.getFileName()).append(' ').append(c).append('\n');
            }
            Files.writeString(tree.getParent().resolve(split + ".txt"), lines);
        }
        Path run = dir.resolve("kitti-swin");
        Path swin = Path.of("../sa2vp-layers/src/test/resources/fixtures/swin/microsoft_model.pth");
        CliRun train = CliRun.of("train", "--benchmark", "vtab-1k/kitti-distance", "--data",
                tree.getParent().toString(), "--backbone", swin.toString(), "--image-size", "40", "--out",
                run.toString(), "--epochs", "1", "--batch-size", "2");
        assertEquals(0, train.code(), train.err());
        Sa2vpSwinConfig config = assertInstanceOf(Sa2vpSwinConfig.class,
                TrainingState.read(run.resolve(Trainer.STATE)).getConfig());
        assertEquals(java.util.List.of(8, 8, 4), java.util.List.of(config.getPromptRank(), config.getAdapterSize(),
                config.getNumClasses()));
        assertEquals(1.5, config.getGamma());
        assertEquals(config, BenchmarkRecipes.method(Benchmarks.get("vtab-1k/kitti-distance"), "sa2vp",
                config.getBackbone()));
        BenchmarkResult result = BenchmarkResult.read(run.resolve(BenchmarkResult.FILE));
        assertEquals("vtab-1k/kitti-distance", result.benchmark());
        assertTrue(train.out().contains(result.paperLine()), train.out());
    }

    @Test
    void badInputIsOneLineBeforeTraining() {
        assertEquals("sa2vp train: unknown benchmark 'minivtab/digit_loc'; nearest: minivtab/digit_location, "
                + "minivtab/digit_count, minivtab/digit_orientation (sa2vp benchmarks lists all 40)", CliRun.of("train",
                "--benchmark", "minivtab/digit_loc", "--data", data.toString(), "--backbone", BACKBONE, "--out",
                dir.resolve("bad").toString()).err().strip());
        assertEquals("sa2vp train: --benchmark minivtab/digit_count reads the benchmark's image files: give its "
                + "folder as --data DIR", CliRun.of("train", "--benchmark", "minivtab/digit_count", "--train", "x.npy",
                "--train-labels", "y.npy", "--out", dir.resolve("bad").toString()).err().strip());
        assertEquals("sa2vp train: --split-mode chooses a benchmark's splits: give --benchmark ID too, or choose "
                + "splits with --train-split and --val-split", CliRun.of("train", "--data", data.toString(),
                "--split-mode", "train-val", "--backbone", BACKBONE, "--out", dir.resolve("bad").toString()).err()
                .strip());
        String wrong = CliRun.of("train", "--benchmark", "minivtab/digit_count", "--data", data.toString(),
                "--backbone", BACKBONE, "--out", dir.resolve("bad").toString()).err().strip();
        assertTrue(wrong.startsWith("sa2vp train: ") && wrong.endsWith("train800val200.txt: 9 classes, but "
                + "minivtab/digit_count has 6; is it the right dataset?"), wrong);
        assertEquals("sa2vp train: unknown split mode 'test'; expected train-val (choosing settings: train800 -> "
                + "val200) or trainval-test (the reported numbers: train800val200 -> test)", CliRun.of("train",
                "--benchmark", "minivtab/digit_location", "--data", data.toString(), "--split-mode", "test",
                "--backbone", BACKBONE, "--out", dir.resolve("bad").toString()).err().strip());
        assertTrue(!Files.exists(dir.resolve("bad").resolve("state.json")), "nothing was trained");
    }
}
