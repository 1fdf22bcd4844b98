package org.sa2vp.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.deeplearning4j.util.ModelSerializer;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.swin.SwinCheckpoint;
import org.sa2vp.backbone.weights.NpzReader;
import org.sa2vp.backbone.weights.NpzWriter;
import org.sa2vp.backbone.weights.SafetensorsReader;
import org.sa2vp.backbone.weights.StateDict;
import org.sa2vp.baseline.VptConfig;
import org.sa2vp.baseline.VptSwinConfig;
import org.sa2vp.model.AdapterFile;
import org.sa2vp.model.AuthorsNames;
import org.sa2vp.model.Sa2vpConfig;
import org.sa2vp.model.Sa2vpModel;
import org.sa2vp.model.Sa2vpSwinConfig;
import org.sa2vp.train.EpochRecord;
import org.sa2vp.train.MetricsCsv;
import org.sa2vp.train.Trainer;
import org.sa2vp.train.TrainingState;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code sa2vp train} for 2 epochs on random data with the fixture backbone (40×40 images, patch 8, width 32, depth
 * 12, 2 heads, Google .npz), then {@code sa2vp eval} with the adapter file it wrote, which must reproduce the best
 * epoch's validation accuracy and loss from the backbone file and the adapter alone.
 */
class TrainCommandTest {

    static final Path BACKBONE = Path.of("..", "sa2vp-layers", "src", "test", "resources", "fixtures",
            "sa2vp", "backbone_google.npz");

    static Path images(Path dir, String name, int n, long seed) {
        Random random = new Random(seed);
        float[] values = new float[n * 3 * 40 * 40];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        Path file = dir.resolve(name);
        NpzWriter.writeNpy(file, Nd4j.create(values, new long[]{n, 3, 40, 40}, DataType.FLOAT));
        return file;
    }

    static Path floatLabels(Path dir, String name, int n) {
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 3;
        }
        Path file = dir.resolve(name);
        NpzWriter.writeNpy(file, Nd4j.create(y, new long[]{n}, DataType.FLOAT));
        return file;
    }

    /** An int64 .npy (as {@code np.save(f, np.arange(n) % 3)} writes it). */
    private static Path intLabels(Path dir, String name, int n) throws IOException {
        String header = "{'descr': '<i8', 'fortran_order': False, 'shape': (" + n + ",), }";
        header = header + " ".repeat((64 - (10 + header.length() + 1) % 64) % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + 8 * n).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[]{(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length());
        b.put(header.getBytes(StandardCharsets.ISO_8859_1));
        for (int i = 0; i < n; i++) {
            b.putLong(i % 3);
        }
        Path file = dir.resolve(name);
        Files.write(file, b.array());
        return file;
    }

    @Test
    void trainsTwoEpochsAndEvaluatesTheAdapterFile(@TempDir Path dir) throws Exception {
        Path x = images(dir, "x.npy", 16, 1), y = floatLabels(dir, "y.npy", 16);
        Path vx = images(dir, "vx.npy", 9, 2), vy = intLabels(dir, "vy.npy", 9);
        Path out = dir.resolve("run");
        String[] train = {"train", "--backbone", BACKBONE.toString(), "--train", x.toString(), "--train-labels",
                y.toString(), "--val", vx.toString(), "--val-labels", vy.toString(), "--out", out.toString(),
                "--epochs", "2", "--warmup-epochs", "1", "--batch-size", "8", "--lr", "1e-2", "--rank", "4",
                "--adapter-size", "8", "--gamma", "0.5", "--deep-prompt-layers", "4", "--seed", "3"};
        long t0 = System.nanoTime();
        CliRun trained = CliRun.of(train);
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(0, trained.code(), trained.err());
        Matcher finished = Pattern.compile("finished 2 epochs: best validation accuracy ([0-9.]+)% at epoch (\\d)")
                .matcher(trained.out());
        assertTrue(finished.find(), trained.out());
        for (String f : List.of(Trainer.LAST, Trainer.BEST, Trainer.STATE, Trainer.METRICS, Trainer.CURVES,
                Trainer.ADAPTER)) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        List<String> metrics = Files.readAllLines(out.resolve(Trainer.METRICS));
        assertEquals(MetricsCsv.HEADER, metrics.get(0));
        assertEquals(3, metrics.size());
        assertTrue(metrics.get(2).startsWith("2,4,"), metrics.get(2));

        TrainingState state = TrainingState.read(out.resolve(Trainer.STATE));
        Sa2vpConfig config = assertInstanceOf(Sa2vpConfig.class, state.getConfig());
        assertEquals(3, config.getNumClasses(), "classes from the largest label");
        assertEquals(List.of(4), config.getDeepPromptLayers());
        assertEquals(4, config.getPromptRank());
        assertEquals(1e-2, state.getRecipe().getLearningRate());
        EpochRecord best = state.getHistory().get(state.getBestEpoch() - 1);
        assertEquals(Integer.parseInt(finished.group(2)), state.getBestEpoch());
        assertEquals(100 * best.getValAccuracy(), Double.parseDouble(finished.group(1)), 0.006);

        // The adapter file: trainable tensors only, with the configuration in its metadata.
        Path adapter = out.resolve(Trainer.ADAPTER);
        assertTrue(SafetensorsReader.metadata(adapter).containsKey(AdapterFile.CONFIG_KEY));
        assertEquals(AuthorsNames.shapes(config).keySet(), SafetensorsReader.read(adapter).keys());
        assertTrue(Files.size(adapter) * 5 < Files.size(out.resolve(Trainer.LAST)), "adapter "
                + Files.size(adapter) + " B vs full network " + Files.size(out.resolve(Trainer.LAST)) + " B");

        CliRun evaluated = CliRun.of("eval", "--backbone", BACKBONE.toString(), "--prompts", adapter.toString(), "--images",
                vx.toString(), "--labels", vy.toString(), "--batch-size", "4");
        assertEquals(0, evaluated.code(), evaluated.err());
        Matcher m = Pattern.compile("accuracy ([0-9.]+) \\((\\d+)/9\\)\\s+loss ([0-9.]+)").matcher(evaluated.out());
        assertTrue(m.find(), evaluated.out());
        System.out.printf("train (2 epochs) %.1f s; eval of the best epoch from the adapter file: accuracy %s, loss %s"
                + " (training run: %.4f, %.6f)%n", seconds, m.group(1), m.group(3), best.getValAccuracy(),
                best.getValLoss());
        assertEquals(best.getValAccuracy(), Double.parseDouble(m.group(1)), 1e-4);
        assertEquals(best.getValLoss(), Double.parseDouble(m.group(3)), 1e-5);

        // --resume of a finished run: nothing to do; changing the recipe is refused in one line.
        String[] resume = java.util.Arrays.copyOf(train, train.length + 1);
        resume[train.length] = "--resume";
        CliRun again = CliRun.of(resume);
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("finished 2 epochs"), again.out());
        CliRun changed = CliRun.of("train", "--train", x.toString(), "--train-labels", y.toString(), "--out", out.toString(),
                "--resume", "--lr", "0.5");
        assertEquals(2, changed.code());
        String message = changed.err().strip();
        assertFalse(message.contains("\n"), message);
        assertTrue(message.startsWith("sa2vp train: ") && message.contains("learningRate 0.01 → 0.5"), message);
    }

    @Test
    void helpAndUserErrors(@TempDir Path dir) throws Exception {
        CliRun help = CliRun.of("train", "--help");
        assertEquals(0, help.code());
        for (String option : List.of("--backbone", "--train-labels", "--val-labels", "--epochs", "--warmup-epochs",
                "--lr", "--min-lr", "--weight-decay", "--batch-size", "--seed", "--rank", "--adapter-size", "--gamma",
                "--lambda", "--window", "--image-to-prompt-layers", "--deep-prompt-layers", "--activation",
                "--no-adapter", "--global-attention", "--dropout", "--out", "--resume")) {
            assertTrue(help.out().contains(option), option);
        }
        CliRun evalHelp = CliRun.of("eval", "--help");
        assertEquals(0, evalHelp.code());
        assertTrue(evalHelp.out().contains("--prompts"));
        assertTrue(CliRun.of("--help").out().contains("train"));

        Path x = images(dir, "x.npy", 4, 1), y = floatLabels(dir, "y.npy", 4);
        CliRun noBackbone = CliRun.of("train", "--train", x.toString(), "--train-labels", y.toString(), "--out",
                dir.resolve("o").toString());
        assertEquals(2, noBackbone.code());
        assertTrue(noBackbone.err().strip().equals("sa2vp train: --backbone is required (except with --resume)"),
                noBackbone.err());
        CliRun tooFew = CliRun.of("train", "--backbone", BACKBONE.toString(), "--train", x.toString(), "--train-labels",
                y.toString(), "--out", dir.resolve("o").toString(), "--image-to-prompt-layers", "0,x");
        assertEquals(2, tooFew.code());
        assertTrue(tooFew.err().contains("'x' is not a layer index"), tooFew.err());
        CliRun smallSet = CliRun.of("train", "--backbone", BACKBONE.toString(), "--train", x.toString(), "--train-labels",
                y.toString(), "--out", dir.resolve("o").toString());
        assertEquals(2, smallSet.code());
        assertTrue(smallSet.err().contains("4 images, fewer than one batch of 64"), smallSet.err());
        CliRun notAdapter = CliRun.of("eval", "--backbone", BACKBONE.toString(), "--prompts", BACKBONE.toString(),
                "--images", x.toString(), "--labels", y.toString());
        assertEquals(2, notAdapter.code());
        assertTrue(notAdapter.err().strip().startsWith("sa2vp eval: ") && notAdapter.err().strip()
                .endsWith("not an SA2VP adapter file (expected the .safetensors written by sa2vp train)"),
                notAdapter.err());
        CliRun noRun = CliRun.of("train", "--train", x.toString(), "--train-labels", y.toString(), "--out",
                dir.resolve("empty").toString(), "--resume");
        assertEquals(2, noRun.code());
        assertTrue(noRun.err().contains("holds no training run to resume"), noRun.err());
    }

    @Test
    void baselinesAreMethodsOfTheSameCommand(@TempDir Path dir) {
        Path x = images(dir, "x.npy", 8, 1), y = floatLabels(dir, "y.npy", 8);
        Path out = dir.resolve("vpt");
        CliRun vpt = CliRun.of("train", "--method", "vpt-deep", "--prompt-tokens", "2", "--backbone",
                BACKBONE.toString(), "--train", x.toString(), "--train-labels", y.toString(), "--out", out.toString(),
                "--epochs", "1", "--warmup-epochs", "0", "--batch-size", "4");
        assertEquals(0, vpt.code(), vpt.err());
        TrainingState state = TrainingState.read(out.resolve(Trainer.STATE));
        VptConfig config = assertInstanceOf(VptConfig.class, state.getConfig());
        assertEquals(2, config.getNumPromptTokens());
        assertTrue(config.isDeep());
        // 12 prompt sets of 2 × 32 values, and the head.
        assertEquals(12 * 2 * 32 + 33 * 3, config.trainableParameters());
        assertTrue(vpt.err().contains("training vpt-deep: " + config.trainableParameters() + " trainable values"),
                vpt.err());

        CliRun mixed = CliRun.of("train", "--method", "linear-probe", "--rank", "4", "--backbone", BACKBONE.toString(),
                "--train", x.toString(), "--train-labels", y.toString(), "--out", dir.resolve("m").toString());
        assertEquals(2, mixed.code());
        assertEquals("sa2vp train: SA2VP options (--rank, --gamma, ...) apply to --method sa2vp only, not "
                + "linear-probe", mixed.err().strip());
        CliRun unknown = CliRun.of("train", "--method", "lora", "--backbone", BACKBONE.toString(), "--train",
                x.toString(), "--train-labels", y.toString(), "--out", dir.resolve("u").toString());
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("unknown method 'lora'; expected one of linear-probe, vpt-shallow"),
                unknown.err());
    }

    /** The Swin fixture of sa2vp-layers: torchvision's tiny Swin in Microsoft's names, 40×40 images. */
    static final Path SWIN = Path.of("..", "sa2vp-layers", "src", "test", "resources", "fixtures", "swin",
            "microsoft_model.pth");

    /**
     * Every method that exists on the Swin trains from the same command (SA2VP as SA2VP-Swin); eval of the run's
     * adapter file reproduces the best epoch's validation loss, and predict gives each image a distribution.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sa2vp", "linear-probe", "full-finetune", "vpt-deep", "vpt-shallow"})
    void trainsEvaluatesAndPredictsOnASwinBackbone(String method, @TempDir Path dir) throws Exception {
        Path x = images(dir, "x.npy", 8, 1), y = floatLabels(dir, "y.npy", 8);
        Path out = dir.resolve("run");
        CliRun trained = CliRun.of("train", "--backbone", SWIN.toString(), "--method", method, "--train",
                x.toString(), "--train-labels", y.toString(), "--val", x.toString(), "--val-labels", y.toString(),
                "--out", out.toString(), "--epochs", "1", "--warmup-epochs", "0", "--batch-size", "4");
        assertEquals(0, trained.code(), trained.err());
        assertTrue(trained.out().contains("finished 1 epochs: best validation accuracy"), trained.out());
        TrainingState state = TrainingState.read(out.resolve(Trainer.STATE));
        assertEquals(method, state.getConfig().methodName());
        if (method.equals("sa2vp")) {
            assertInstanceOf(Sa2vpSwinConfig.class, state.getConfig());
        }
        if (method.startsWith("vpt")) {
            assertInstanceOf(VptSwinConfig.class, state.getConfig());
            assertEquals(method.equals("vpt-deep"), ((VptSwinConfig) state.getConfig()).isDeep());
        }
        assertEquals("swin", state.getConfig().getBackbone().family());
        assertEquals(3, state.getConfig().getNumClasses());
        EpochRecord best = state.getHistory().get(state.getBestEpoch() - 1);

        Path adapter = out.resolve(Trainer.ADAPTER);
        CliRun evaluated = CliRun.of("eval", "--backbone", SWIN.toString(), "--prompts", adapter.toString(),
                "--images", x.toString(), "--labels", y.toString());
        assertEquals(0, evaluated.code(), evaluated.err());
        Matcher m = Pattern.compile("accuracy ([0-9.]+) \\((\\d+)/8\\)\\s+loss ([0-9.]+)").matcher(evaluated.out());
        assertTrue(m.find(), evaluated.out());
        assertEquals(best.getValAccuracy(), Double.parseDouble(m.group(1)), 1e-4);
        assertEquals(best.getValLoss(), Double.parseDouble(m.group(3)), 1e-5);

        java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(40, 40,
                java.awt.image.BufferedImage.TYPE_INT_RGB);
        image.setRGB(3, 5, 0xff8040);
        Path png = dir.resolve("one.png");
        javax.imageio.ImageIO.write(image, "png", png.toFile());
        CliRun predicted = CliRun.of("predict", "--backbone", SWIN.toString(), "--prompts", adapter.toString(),
                "--top-k", "3", png.toString());
        assertEquals(0, predicted.code(), predicted.err());
        String[] lines = predicted.out().strip().split("\n");
        assertEquals(4, lines.length, predicted.out());
        assertEquals(png.toString(), lines[0]);
        double total = 0;
        for (int k = 1; k <= 3; k++) {
            Matcher top = Pattern.compile("\\s+(\\d+\\.\\d\\d)%\\s+class [0-2]").matcher(lines[k]);
            assertTrue(top.matches(), lines[k]);
            total += Double.parseDouble(top.group(1));
        }
        assertEquals(100, total, 0.02, "the three classes' probabilities");
    }

    /**
     * infer --prompts with a Swin run's adapter file takes the stored configuration (γ 0.3, rank 4, where the
     * authors' template would say 0.5 and 8): the logits are the run's inference graph's, to the bit.
     */
    @Test
    void inferRunsASwinAdapterFileWithItsStoredConfiguration(@TempDir Path dir) {
        Path x = images(dir, "x.npy", 4, 1), y = floatLabels(dir, "y.npy", 4);
        Path out = dir.resolve("run");
        CliRun trained = CliRun.of("train", "--backbone", SWIN.toString(), "--train", x.toString(), "--train-labels",
                y.toString(), "--out", out.toString(), "--epochs", "1", "--warmup-epochs", "0", "--batch-size", "4",
                "--gamma", "0.3", "--rank", "4");
        assertEquals(0, trained.code(), trained.err());
        Path adapter = out.resolve(Trainer.ADAPTER);
        Path logits = dir.resolve("logits.npz");
        CliRun inferred = CliRun.of("infer", "--backbone", SWIN.toString(), "--prompts", adapter.toString(),
                "--input", x.toString(), "--output", logits.toString());
        assertEquals(0, inferred.code(), inferred.err());
        assertTrue(inferred.err().contains("SA2VP-Swin rank 4, adapter 8, interaction stage 0"), inferred.err());

        Sa2vpSwinConfig stored = assertInstanceOf(Sa2vpSwinConfig.class, TrainedModel.configuration(adapter));
        assertEquals(0.3, stored.getGamma());
        ComputationGraph graph = TrainedModel.load(SWIN.toString(), adapter, stored).graph();
        INDArray[] expected = Sa2vpModel.logits(graph, NpzReader.readNpy(x));
        StateDict result = NpzReader.readNpz(logits);
        assertEquals(expected[0], result.get("base_logits"));
        assertEquals(expected[1], result.get("prompt_logits"));
    }

    @Test
    void vitOnlyOptionsAndMethodsOnASwinFailInOneLine(@TempDir Path dir) {
        Path x = images(dir, "x.npy", 4, 1), y = floatLabels(dir, "y.npy", 4);
        String[] common = {"train", "--backbone", SWIN.toString(), "--train", x.toString(), "--train-labels",
                y.toString(), "--out", dir.resolve("run").toString(), "--epochs", "1"};
        String settings = "interactionStage, imageToPromptBlocks, windowSize, promptRank, adapterSize, gamma, "
                + "lossWeight, interactionLayerNormEps, attentionDropout, adapterDropout (train: --set NAME=VALUE)";
        CliRun dropout = CliRun.of(with(common, "--dropout", "0.2", "--deep-prompt-layers", "4"));
        assertEquals(2, dropout.code());
        // --dropout fits SA2VP-Swin (it sets both its dropouts: settingAliases); --deep-prompt-layers does not.
        assertEquals("sa2vp train: --deep-prompt-layers is an option of SA2VP on the ViT; SA2VP on swin has the "
                + "settings " + settings, dropout.err().strip().lines().reduce((a, b) -> b).orElseThrow());
        CliRun imageToPrompt = CliRun.of(with(common, "--image-to-prompt-layers", "0,2"));
        assertEquals("sa2vp train: --image-to-prompt-layers is an option of SA2VP on the ViT; SA2VP on swin has the "
                + "settings " + settings, imageToPrompt.err().strip().lines().reduce((a, b) -> b).orElseThrow());
        // The old line where it is still true: SA2VP options for another method.
        CliRun probe = CliRun.of(with(common, "--method", "linear-probe", "--rank", "4"));
        assertEquals("sa2vp train: SA2VP options (--rank, --gamma, ...) apply to --method sa2vp only, not "
                + "linear-probe", probe.err().strip().lines().reduce((a, b) -> b).orElseThrow());
        assertFalse(Files.exists(dir.resolve("run").resolve(Trainer.STATE)));
    }

    /**
     * Two training steps (8 images, batch 4) of every method on the Swin file: the loss is finite, the run's graph
     * ({@code last.zip}) has moved the method's trained values and, unless the method fine-tunes the backbone, holds
     * the file's backbone weights bit for bit.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"linear-probe", "full-finetune", "vpt-deep", "vpt-shallow", "sa2vp"})
    void twoStepsOnASwinFileMoveTheTrainedValuesAndKeepTheFrozenOnes(String method, @TempDir Path dir)
            throws Exception {
        Path x = images(dir, "x.npy", 8, 2), y = floatLabels(dir, "y.npy", 8);
        Path out = dir.resolve("run");
        CliRun trained = CliRun.of("train", "--backbone", SWIN.toString(), "--method", method, "--train",
                x.toString(), "--train-labels", y.toString(), "--out", out.toString(), "--epochs", "1",
                "--warmup-epochs", "0", "--batch-size", "4");
        assertEquals(0, trained.code(), trained.err());
        TrainingState state = TrainingState.read(out.resolve(Trainer.STATE));
        double loss = state.getHistory().get(0).getTrainLoss();
        assertTrue(Double.isFinite(loss) && loss > 0, "training loss " + loss);

        SwinCheckpoint file = SwinCheckpoint.read(SWIN, CheckpointOptions.defaults().withImageSize(40));
        ComputationGraph run = ModelSerializer.restoreComputationGraph(out.resolve(Trainer.LAST).toFile(), false);
        StateDict backbone = SwinCheckpoint.export(run, file.config().headless());
        long movedBackbone = 0;
        for (String key : backbone.keys()) {
            if (!file.weights().keys().contains(key)) {
                continue;
            }
            INDArray before = file.weights().get(key).castTo(DataType.FLOAT);
            INDArray after = backbone.get(key).reshape(before.shape());
            movedBackbone += before.neq(after).castTo(DataType.LONG).sumNumber().longValue();
            if (!method.equals("full-finetune")) {
                assertEquals(before, after, method + ": frozen " + key + " changed");
            }
        }
        if (method.equals("full-finetune")) {
            assertTrue(movedBackbone > 1000, movedBackbone + " backbone values moved in full fine-tuning");
        }
        // The run's starting point: the same configuration and recipe (seeded), the file's backbone loaded.
        ComputationGraph start = Trainer.newGraph(state.getConfig(), state.getRecipe(), 8);
        state.getConfig().loadBackbone(start, file);
        long moved = start.params().neq(run.params()).castTo(DataType.LONG).sumNumber().longValue();
        long trainable = state.getConfig().trainableParameters();
        assertTrue(moved <= trainable && moved > trainable / 2, moved + " values moved, " + trainable + " trainable");
    }

    private static String[] with(String[] common, String... more) {
        String[] all = java.util.Arrays.copyOf(common, common.length + more.length);
        System.arraycopy(more, 0, all, common.length, more.length);
        return all;
    }
}
