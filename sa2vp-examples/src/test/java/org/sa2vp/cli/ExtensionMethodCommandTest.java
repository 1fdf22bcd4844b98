package org.sa2vp.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sa2vp.backbone.weights.SafetensorsReader;
import org.sa2vp.extension.MlpProbeConfig;
import org.sa2vp.train.Trainer;
import org.sa2vp.train.TrainingState;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A tuning method that lives only in the test sources ({@link MlpProbeConfig}, registered through this module's
 * test {@code META-INF/services}) runs through the same command line as the built-in ones, with no production file
 * naming it: {@code sa2vp train --method mlp-probe} (with a generic {@code --set} of one of its settings), and the
 * mini-VTAB runner, where it must learn a real task from the bundled backbone. The {@link Trainer} contract is
 * {@code TuningMethodContractTest}'s.
 */
class ExtensionMethodCommandTest {

    @Test
    void sa2vpTrainTrainsAMethodOnlyTheTestsRegister(@TempDir Path dir) throws Exception {
        Path x = TrainCommandTest.images(dir, "x.npy", 16, 1), y = TrainCommandTest.floatLabels(dir, "y.npy", 16);
        Path out = dir.resolve("run");
        String[] train = {"train", "--method", "mlp-probe", "--backbone", TrainCommandTest.BACKBONE.toString(),
                "--train", x.toString(), "--train-labels", y.toString(), "--out", out.toString(), "--epochs", "2",
                "--warmup-epochs", "1", "--batch-size", "8", "--lr", "1e-2", "--set", "hiddenSize=12"};
        CliRun run = CliRun.of(train);
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("finished 2 epochs"), run.out());
        MlpProbeConfig config = assertInstanceOf(MlpProbeConfig.class,
                TrainingState.read(out.resolve(Trainer.STATE)).getConfig());
        assertEquals(12, config.getHiddenSize(), "--set reaches the method's own setting");
        assertEquals(3, config.getNumClasses());
        assertEquals(Set.of("hidden.weight", "hidden.bias", "head.weight", "head.bias"),
                SafetensorsReader.read(out.resolve(Trainer.ADAPTER)).keys());

        // predict runs whatever method trained the adapter: an image file at the model's 3×40×40 (the vtab1k preset,
        // as the run on .npy arrays recorded none), no class names: indices, probabilities summing to 100 %.
        Path png = dir.resolve("gradient.png");
        java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(20, 30,
                java.awt.image.BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < 20 * 30; i++) {
            image.setRGB(i % 20, i / 20, (i * 37) & 0xFFFFFF);
        }
        javax.imageio.ImageIO.write(image, "png", png.toFile());
        // Two images in one forward pass: a batch of one image fails in the fused LayerNorm (see the report of
        // this branch), which is not the command's to fix.
        CliRun predicted = CliRun.of("predict", "--backbone", TrainCommandTest.BACKBONE.toString(), "--prompts",
                out.resolve(Trainer.ADAPTER).toString(), "--top-k", "3", png.toString(), png.toString());
        assertEquals(0, predicted.code(), predicted.err());
        List<String> lines = predicted.out().strip().lines().toList();
        assertEquals(8, lines.size(), predicted.out());
        assertEquals(lines.subList(0, 4), lines.subList(4, 8), "the same image, the same prediction");
        double total = 0;
        for (String line : lines.subList(1, 4)) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\s+(\\d+\\.\\d\\d)%\\s+class [012]")
                    .matcher(line);
            assertTrue(m.matches(), line);
            total += Double.parseDouble(m.group(1));
        }
        assertEquals(100, total, 0.02);

        CliRun wrongSetting = CliRun.of("train", "--method", "mlp-probe", "--backbone",
                TrainCommandTest.BACKBONE.toString(), "--train", x.toString(), "--train-labels", y.toString(), "--out",
                dir.resolve("other").toString(), "--set", "promptRank=4");
        assertEquals(2, wrongSetting.code());
        assertEquals("sa2vp train: method mlp-probe has no setting 'promptRank'; its settings: backbone, numClasses, "
                + "hiddenSize", wrongSetting.err().strip());
        CliRun sa2vpOption = CliRun.of("train", "--method", "mlp-probe", "--backbone",
                TrainCommandTest.BACKBONE.toString(), "--train", x.toString(), "--train-labels", y.toString(), "--out",
                dir.resolve("other").toString(), "--rank", "4");
        assertEquals(2, sa2vpOption.code());
        assertEquals("sa2vp train: SA2VP options (--rank, --gamma, ...) apply to --method sa2vp only, not mlp-probe",
                sa2vpOption.err().strip());
    }

    /** digit_count from the bundled backbone, one seed, 3 epochs: a working MLP probe is far above chance. */
    @Test
    void theMiniVtabRunnerRunsAMethodOnlyTheTestsRegister(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("bench");
        CliRun run = CliRun.of("minivtab", "--out", out.toString(), "--tasks", "digit_count", "--methods",
                "mlp-probe", "--seeds", "1", "--epochs", "3", "--workers", "1");
        assertEquals(0, run.code(), run.err());
        List<String> csv = Files.readAllLines(out.resolve("results.csv"));
        assertEquals(2, csv.size(), csv.toString());
        String[] row = csv.get(1).split(",");
        assertEquals("mlp-probe", row[2]);
        double accuracy = Double.parseDouble(row[5]);
        System.out.printf("mlp-probe on digit_count, 3 epochs: test accuracy %.4f%n", accuracy);
        assertTrue(accuracy > 0.5, "accuracy " + accuracy);
        assertTrue(Files.readString(out.resolve("results.md")).contains("| task | mlp-probe |"));
    }
}
