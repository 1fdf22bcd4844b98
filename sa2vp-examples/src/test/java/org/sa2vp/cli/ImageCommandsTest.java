package org.sa2vp.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.backbone.weights.NpzWriter;
import org.sa2vp.data.ImagePreprocessing;
import org.sa2vp.data.ImageSources;
import org.sa2vp.train.EpochRecord;
import org.sa2vp.train.EvaluationResult;
import org.sa2vp.train.Trainer;
import org.sa2vp.train.TrainingState;
import org.sa2vp.zoo.PretrainedTinyVit;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command line on image files and the bundled backbone: {@code train --data} on PNGs written here (3 classes,
 * 12×12 RGB), then {@code eval --data} and {@code predict} with the adapter, its preprocessing.json and classes.txt;
 * layout detection; refused {@code .npy} inputs; one-line failures with exit code 2.
 */
class ImageCommandsTest {

    static final String ZOO = "zoo:" + PretrainedTinyVit.NAME;
    static final List<String> CLASSES = List.of("bright", "dark", "stripes");

    /** A 12×12 RGB PNG of {@code kind}'s pattern with noise. */
    static void png(Path file, String kind, Random random) throws IOException {
        BufferedImage image = new BufferedImage(12, 12, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 12; y++) {
            for (int x = 0; x < 12; x++) {
                int base = switch (kind) {
                    case "bright" -> 200;
                    case "dark" -> 40;
                    default -> (x / 2) % 2 == 0 ? 230 : 20;
                };
                int v = Math.max(0, Math.min(255, base + random.nextInt(41) - 20));
                image.setRGB(x, y, v << 16 | v << 8 | v);
            }
        }
        Files.createDirectories(file.getParent());
        ImageIO.write(image, "png", file.toFile());
    }

    /** {@code root/<class>/<class>_<i>.png} for every class, {@code perClass} images each. */
    static List<Path> classFolders(Path root, int perClass, long seed) throws IOException {
        Random random = new Random(seed);
        List<Path> files = new ArrayList<>();
        for (String kind : CLASSES) {
            for (int i = 0; i < perClass; i++) {
                Path file = root.resolve(kind).resolve(kind + "_" + i + ".png");
                png(file, kind, random);
                files.add(file);
            }
        }
        return files;
    }

    @Test
    void trainsOnImageFilesThenEvaluatesAndPredicts(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("shapes");
        classFolders(data.resolve("train"), 8, 1);
        List<Path> val = classFolders(data.resolve("val"), 4, 2);
        Path out = dir.resolve("run");
        CliRun trained = CliRun.of("train", "--data", data.toString(), "--backbone", ZOO, "--out", out.toString(),
                "--epochs", "2", "--batch-size", "8", "--lr", "1e-2", "--rank", "4", "--seed", "3");
        assertEquals(0, trained.code(), trained.err());
        assertTrue(trained.err().contains("data: " + data + " (split folders): training on train, validating on val "
                + "(24 images, 3 classes; 12 validation images; images resized (stretch) to 32×32, 1 channel)"),
                trained.err());
        // The paper's 10 warm-up epochs of 100, scaled to 2 epochs.
        assertTrue(trained.err().contains("--epochs 2 is below the recipe's 10 warm-up epochs (of 100): warming up "
                + "for 0 epochs instead; set --warmup-epochs to choose"), trained.err());
        TrainingState state = TrainingState.read(out.resolve(Trainer.STATE));
        assertEquals(0, state.getRecipe().getWarmupEpochs());
        assertEquals(3, state.getConfig().getNumClasses());
        assertEquals(CLASSES, Files.readAllLines(out.resolve(ImageDatasets.CLASSES)));
        ImagePreprocessing recorded = ImagePreprocessing.fromJson(Files.readString(out.resolve(
                ImageDatasets.PREPROCESSING)));
        assertEquals(ImagePreprocessing.vtab1k().forInput(1, 32, 32).toJson(), recorded.toJson());
        Matcher finished = Pattern.compile("finished 2 epochs: best validation accuracy ([0-9.]+)% at epoch (\\d)")
                .matcher(trained.out());
        assertTrue(finished.find(), trained.out());
        EpochRecord best = state.getHistory().get(state.getBestEpoch() - 1);
        // The trainer's own evaluation report names the classes.
        assertTrue(Files.readString(out.resolve(EvaluationResult.REPORT)).contains("stripes"));

        // eval on the validation split reproduces the run's best validation accuracy and loss from the adapter file,
        // preprocessing.json and classes.txt alone.
        Path adapter = out.resolve(Trainer.ADAPTER);
        Path report = dir.resolve("report");
        CliRun evaluated = CliRun.of("eval", "--backbone", ZOO, "--prompts", adapter.toString(), "--data",
                data.toString(), "--split", "val", "--out", report.toString());
        assertEquals(0, evaluated.code(), evaluated.err());
        Matcher m = Pattern.compile("accuracy ([0-9.]+) \\((\\d+)/12\\)\\s+loss ([0-9.]+)").matcher(evaluated.out());
        assertTrue(m.find(), evaluated.out());
        assertEquals(best.getValAccuracy(), Double.parseDouble(m.group(1)), 1e-4);
        assertEquals(best.getValLoss(), Double.parseDouble(m.group(3)), 1e-5);
        assertTrue(evaluated.out().contains("# of classes:    3"), evaluated.out());
        assertTrue(evaluated.out().contains("Confusion Matrix"), evaluated.out());
        for (String name : CLASSES) {
            assertTrue(evaluated.out().contains(name), name);
        }
        for (String file : List.of(EvaluationResult.REPORT, EvaluationResult.JSON, EvaluationResult.CONFUSION)) {
            assertTrue(Files.isRegularFile(report.resolve(file)), file);
        }
        assertEquals("actual\\predicted,bright,dark,stripes", Files.readAllLines(report.resolve(
                EvaluationResult.CONFUSION)).get(0));

        // predict, top-1 with the class names of classes.txt: as many right as eval counted.
        List<String> args = new ArrayList<>(List.of("predict", "--backbone", ZOO, "--prompts", adapter.toString(),
                "--top-k", "1"));
        val.forEach(file -> args.add(file.toString()));
        CliRun predicted = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, predicted.code(), predicted.err());
        String[] lines = predicted.out().strip().split("\n");
        assertEquals(2 * val.size(), lines.length, predicted.out());
        int correct = 0;
        for (int i = 0; i < val.size(); i++) {
            assertEquals(val.get(i).toString(), lines[2 * i]);
            Matcher top = Pattern.compile("\\s+(\\d+\\.\\d\\d)%\\s+(\\w+)").matcher(lines[2 * i + 1]);
            assertTrue(top.matches(), lines[2 * i + 1]);
            assertTrue(CLASSES.contains(top.group(2)), top.group(2));
            correct += top.group(2).equals(val.get(i).getParent().getFileName().toString()) ? 1 : 0;
        }
        assertEquals(Integer.parseInt(m.group(2)), correct);

        // predict --data: every image below the folder, each with the same answer as when named.
        CliRun folder = CliRun.of("predict", "--backbone", ZOO, "--prompts", adapter.toString(), "--top-k", "1",
                "--data", data.resolve("val").toString());
        assertEquals(0, folder.code(), folder.err());
        assertEquals(java.util.Set.of(predicted.out().strip().split("\n(?=/)")),
                java.util.Set.of(folder.out().strip().split("\n(?=/)")));

        // A truncated PNG: one line naming it, exit code 2, before any result of its batch is printed.
        Path truncated = dir.resolve("truncated.png");
        Files.write(truncated, java.util.Arrays.copyOf(Files.readAllBytes(val.get(0)), 40));
        CliRun unreadable = CliRun.of("predict", "--backbone", ZOO, "--prompts", adapter.toString(),
                val.get(1).toString(), truncated.toString());
        assertEquals(2, unreadable.code());
        assertOneLine(unreadable, "sa2vp predict: " + truncated + ": not a readable image");
        assertEquals("", unreadable.out());

        // --resume of the finished run reuses preprocessing.json; another preset is refused.
        CliRun again = CliRun.of("train", "--data", data.toString(), "--out", out.toString(), "--epochs", "2",
                "--batch-size", "8", "--lr", "1e-2", "--rank", "4", "--seed", "3", "--resume");
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("finished 2 epochs"), again.out());
        CliRun otherPreset = CliRun.of("train", "--data", data.toString(), "--out", out.toString(), "--resume",
                "--preprocessing", "fgvc");
        assertEquals(2, otherPreset.code());
        assertOneLine(otherPreset, "sa2vp train: --resume continues the run in " + out + " with its "
                + out.resolve(ImageDatasets.PREPROCESSING) + "; --preprocessing fgvc would change it");
    }

    @Test
    void detectsTheLayoutAndItsDefaultSplits(@TempDir Path dir) throws Exception {
        Path vtab = dir.resolve("vtab");
        classFolders(vtab.resolve("images"), 1, 1);
        for (String list : List.of("train800.txt", "val200.txt", "train800val200.txt", "test.txt")) {
            Files.writeString(vtab.resolve(list), "images/bright/bright_0.png 0\nimages/dark/dark_0.png 1\n");
        }
        Path fgvc = dir.resolve("fgvc");
        classFolders(fgvc.resolve("images"), 1, 1);
        Files.writeString(fgvc.resolve("train.json"), "{\"bright/bright_0.png\": 1, \"dark/dark_0.png\": 2}");
        Path splitFolders = dir.resolve("folders");
        classFolders(splitFolders.resolve("train"), 1, 1);
        classFolders(splitFolders.resolve("val"), 1, 1);
        Path classFolder = dir.resolve("plain");
        classFolders(classFolder, 1, 1);

        assertEquals(new ImageDataOptions.Splits(ImageSources.Layout.VTAB_LISTS, "train800val200", null),
                splits(vtab));
        assertEquals(new ImageDataOptions.Splits(ImageSources.Layout.FGVC_JSON, "train", null), splits(fgvc));
        assertEquals(new ImageDataOptions.Splits(ImageSources.Layout.SPLIT_FOLDERS, "train", "val"),
                splits(splitFolders));
        assertEquals(new ImageDataOptions.Splits(ImageSources.Layout.CLASS_FOLDER, null, null), splits(classFolder));
        assertEquals("data: " + vtab + " (VTAB-1k list files): training on train800val200, no validation (tune "
                + "with --train-split train800 --val-split val200)", splits(vtab).describe(vtab));
        assertEquals("data: " + classFolder + " (one image folder DIR/<class>/<image>): training on all images, no "
                + "validation", splits(classFolder).describe(classFolder));
        assertEquals(3, ImageDatasets.open(classFolder, null, ImagePreprocessing.vtab1k(), true).size());

        // A split the VTAB task does not have: one line from the listing, before any training.
        CliRun badSplit = CliRun.of("train", "--data", vtab.toString(), "--val-split", "val999", "--backbone", ZOO,
                "--out", dir.resolve("o").toString());
        assertEquals(2, badSplit.code());
        assertOneLine(badSplit, "sa2vp train: no VTAB-1k split 'val999' in " + vtab + "; it has the splits "
                + "[TRAIN800, VAL200, TRAIN800VAL200, TEST]");
        assertFalse(Files.exists(dir.resolve("o")));
    }

    private static ImageDataOptions.Splits splits(Path directory) {
        ImageDataOptions options = new ImageDataOptions();
        options.directory = directory;
        return options.splits();
    }

    @Test
    void refusesBadInputInOneLine(@TempDir Path dir) throws Exception {
        Path y = TrainCommandTest.floatLabels(dir, "y.npy", 4);
        Path pixels = uint8Images(dir.resolve("pixels.npy"), 4);
        CliRun integers = CliRun.of("train", "--backbone", TrainCommandTest.BACKBONE.toString(), "--train",
                pixels.toString(), "--train-labels", y.toString(), "--out", dir.resolve("o").toString());
        assertEquals(2, integers.code());
        assertOneLine(integers, "sa2vp train: " + pixels + " holds uint8 values; sa2vp expects float32 images "
                + "already scaled and normalised: x/255 then (x-0.5)/0.5 per channel for the vtab1k preset, or use "
                + "--data with the image files");

        float[] values = new float[4 * 3 * 40 * 40];
        values[2 * 3 * 40 * 40 + 17] = Float.NaN;
        Path nan = dir.resolve("nan.npy");
        NpzWriter.writeNpy(nan, Nd4j.create(values, new long[]{4, 3, 40, 40}, DataType.FLOAT));
        CliRun nanImages = CliRun.of("train", "--backbone", TrainCommandTest.BACKBONE.toString(), "--train",
                nan.toString(), "--train-labels", y.toString(), "--out", dir.resolve("o").toString());
        assertEquals(2, nanImages.code());
        assertOneLine(nanImages, "sa2vp train: " + nan + ": image 2 holds NaN or infinite values; fix or drop it");

        Path data = dir.resolve("plain");
        classFolders(data, 2, 1);
        CliRun unknownZoo = CliRun.of("train", "--data", data.toString(), "--backbone", "zoo:vit_huge", "--out",
                dir.resolve("o").toString());
        assertEquals(2, unknownZoo.code());
        assertOneLine(unknownZoo, "sa2vp train: unknown zoo backbone 'vit_huge'; registered: "
                + PretrainedTinyVit.NAME);
        CliRun both = CliRun.of("train", "--data", data.toString(), "--train", nan.toString(), "--train-labels",
                y.toString(), "--backbone", ZOO, "--out", dir.resolve("o").toString());
        assertEquals(2, both.code());
        assertOneLine(both, "sa2vp train: give the training data either as --data DIR (image files) or as --train "
                + "X.npy --train-labels Y.npy, not both");
        CliRun neither = CliRun.of("train", "--backbone", ZOO, "--out", dir.resolve("o").toString());
        assertEquals(2, neither.code());
        assertOneLine(neither, "sa2vp train: give the training data either as --data DIR (image files) or as "
                + "--train X.npy --train-labels Y.npy, not neither");
        assertFalse(Files.exists(dir.resolve("o")));
    }

    @Test
    void aDivergingRunStopsWithExitCode2AndKeepsItsCheckpoint(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("plain");
        classFolders(data, 8, 1);
        Path out = dir.resolve("run");
        CliRun diverged = CliRun.of("train", "--backbone", ZOO, "--data", data.toString(), "--out", out.toString(),
                "--epochs", "3", "--warmup-epochs", "1", "--batch-size", "8", "--lr", "1e6", "--rank", "4", "--seed",
                "3");
        assertEquals(2, diverged.code(), diverged.err());
        String message = diverged.err().strip().lines().reduce((a, b) -> b).orElse("");
        assertTrue(message.startsWith("sa2vp train: the training loss is "), message);
        assertFalse(diverged.err().contains("\tat "), "no stack trace: " + diverged.err());
        TrainingState state = TrainingState.read(out.resolve(Trainer.STATE));
        assertTrue(message.contains("stopped without writing: " + out + " keeps its checkpoint of iteration "
                + state.getGlobalIteration()), message);
        assertTrue(state.getHistory().size() >= 1, "an epoch was checkpointed before the loss diverged");
        // state.json describes the last good step, the one before the step the message names.
        assertTrue(message.contains("the training loss is NaN at iteration " + (state.getGlobalIteration() + 1)
                + " ") || message.contains("is Infinity at iteration " + (state.getGlobalIteration() + 1) + " "),
                message);
        assertTrue(message.contains("the trained tensors of epoch " + state.getBestEpoch()), message);
        assertTrue(Files.isRegularFile(out.resolve(Trainer.LAST)));
        assertTrue(Files.isRegularFile(out.resolve(Trainer.ADAPTER)));
        System.out.println("diverged after " + state.getGlobalIteration() + " good iterations: " + message);
    }

    @Test
    void aCorruptImageIsSkippedAndCountedUnlessStrict(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("plain");
        List<Path> files = classFolders(data, 3, 1);
        Path corrupt = data.resolve("dark").resolve("dark_9.png");
        Files.write(corrupt, java.util.Arrays.copyOf(Files.readAllBytes(files.get(0)), 40));
        String[] args = {"train", "--data", data.toString(), "--backbone", ZOO, "--epochs", "1", "--batch-size", "10",
                "--lr", "1e-2", "--rank", "4", "--out", null};
        args[args.length - 1] = dir.resolve("lenient").toString();
        CliRun lenient = CliRun.of(args);
        assertEquals(0, lenient.code(), lenient.err());
        assertTrue(lenient.out().contains("1 unreadable image skipped (replaced by the next readable one in "
                + "training, left out of evaluations; --strict makes them an error)"), lenient.out());

        String[] strictArgs = java.util.Arrays.copyOf(args, args.length + 1);
        strictArgs[args.length - 1] = dir.resolve("strict").toString();
        strictArgs[args.length] = "--strict";
        CliRun strict = CliRun.of(strictArgs);
        assertEquals(2, strict.code());
        // After the progress lines of the run it had started: the error, one line, no stack trace.
        List<String> lines = strict.err().strip().lines().toList();
        assertEquals("sa2vp train: image " + corrupt + " (" + data + ", index 6) is unreadable: neither OpenCV nor "
                + "Leptonica decodes it", lines.get(lines.size() - 1));
        assertTrue(lines.stream().noneMatch(line -> line.startsWith("\tat ")), strict.err());
    }

    private static void assertOneLine(CliRun run, String expectedStart) {
        String message = run.err().strip();
        assertFalse(message.contains("\n"), message);
        assertTrue(message.startsWith(expectedStart), message);
    }

    /** A {@code [n, 3, 4, 4]} uint8 .npy, as {@code np.save(f, pixels.astype(np.uint8))} writes it. */
    private static Path uint8Images(Path file, int n) throws IOException {
        String header = "{'descr': '|u1', 'fortran_order': False, 'shape': (" + n + ", 3, 4, 4), }";
        header = header + " ".repeat((64 - (10 + header.length() + 1) % 64) % 64) + "\n";
        int count = n * 3 * 4 * 4;
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + count).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[]{(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length());
        b.put(header.getBytes(StandardCharsets.ISO_8859_1));
        for (int i = 0; i < count; i++) {
            b.put((byte) (i * 7));
        }
        Files.write(file, b.array());
        return file;
    }
}
