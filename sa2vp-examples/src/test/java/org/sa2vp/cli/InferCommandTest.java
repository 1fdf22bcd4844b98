package org.sa2vp.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.swin.SwinCheckpoint;
import org.sa2vp.backbone.swin.SwinTransformer;
import org.sa2vp.backbone.weights.NpzReader;
import org.sa2vp.backbone.weights.StateDict;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code sa2vp infer} on the PyTorch-made fixtures of sa2vp-layers: every format, and one-line errors. */
class InferCommandTest {

    /** The fixtures folder of sa2vp-layers (tests run with the module directory as working directory). */
    static Path fixture(String name) {
        return Path.of("..", "sa2vp-layers", "src", "test", "resources", "fixtures", "vit", name);
    }

    private static double maxAbsDiff(INDArray a, INDArray b) {
        return a.sub(b).amaxNumber().doubleValue();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"google.npz, ''", "timm.safetensors, 2", "hf.safetensors, 2", "torchvision.npz, 2",
            "torchvision_opset17.onnx, ''", "hf_opset17.onnx, 2", "pth/timm_model_epoch.pth, 2",
            "pth/timm_legacy.pth, 2"})
    void writesFeaturesAndLogitsMatchingPyTorch(String file, String heads, @TempDir Path dir) {
        Path out = dir.resolve("out.npz");
        String[] args = heads.isEmpty()
                ? new String[]{"infer", "--backbone", fixture(file).toString(), "--input", fixture("input.npy")
                .toString(), "--output", out.toString()}
                : new String[]{"infer", "--backbone", fixture(file).toString(), "--input", fixture("input.npy")
                .toString(), "--output", out.toString(), "--heads", heads};
        assertEquals(0, Sa2vpCli.execute(args));
        StateDict result = NpzReader.readNpz(out);
        StateDict reference = NpzReader.readNpz(fixture("reference.npz"));
        assertTrue(maxAbsDiff(result.get("features"), reference.get("features")) <= 1e-4);
        assertTrue(maxAbsDiff(result.get("logits"), reference.get("logits")) <= 1e-4);
    }

    /**
     * A Swin file without --prompts runs the plain backbone: features and logits are the Java graph's of the same
     * file to the bit, and torchvision's (the fixture's reference) within 1e-4.
     */
    @Test
    void aSwinFileWithoutPromptsWritesTheBackbonesFeaturesAndLogits(@TempDir Path dir) {
        Path swin = Path.of("..", "sa2vp-layers", "src", "test", "resources", "fixtures", "swin");
        Path out = dir.resolve("out.npz");
        assertEquals(0, Sa2vpCli.execute("infer", "--backbone", swin.resolve("microsoft_model.pth").toString(),
                "--input", swin.resolve("input.npy").toString(), "--output", out.toString()));
        StateDict result = NpzReader.readNpz(out);
        INDArray images = NpzReader.readNpy(swin.resolve("input.npy"));
        ComputationGraph graph = SwinCheckpoint.read(swin.resolve("microsoft_model.pth"), CheckpointOptions.defaults()
                .withImageSize(40)).toGraph();
        assertEquals(SwinTransformer.features(graph, images), result.get("features"));
        assertEquals(SwinTransformer.logits(graph, images), result.get("logits"));
        StateDict reference = NpzReader.readNpz(swin.resolve("reference.npz"));
        assertTrue(maxAbsDiff(result.get("logits"), reference.get("logits")) <= 1e-4);
        assertTrue(maxAbsDiff(result.get("features"), reference.get("features")) <= 1e-4);
    }

    /**
     * A Swin exported to ONNX (torchvision's opset 14, timm's names at opset 17; the layers' Swin fixtures, whose
     * logits {@code SwinOnnxTest} checks) is taken as a Swin file wherever one is, its 40×40 images read from the
     * export: {@code info} describes it, {@code bench} runs an SA2VP-Swin training step on it, and {@code infer}
     * without prompts writes torch's logits within 1e-4.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"torchvision_opset14.onnx", "timm_opset17.onnx"})
    void aSwinOnnxExportIsASwinBackbone(String file, @TempDir Path dir) {
        Path swin = Path.of("..", "sa2vp-layers", "src", "test", "resources", "fixtures", "swin").resolve(file);
        CliRun info = CliRun.of("info", "--backbone", swin.toString());
        assertEquals(0, info.code(), info.err());
        assertTrue(info.out().startsWith(file + " (family swin): embed 4, depths [2, 1], heads [1, 2], window 4, "
                + "patch 4, 40x40 images"), info.out());
        CliRun bench = CliRun.of("bench", "--backbone", swin.toString(), "--batch", "2",
                "--steps", "1", "--classes", "5");
        assertEquals(0, bench.code(), bench.err());
        assertTrue(bench.out().strip().lines().reduce((a, b) -> b).orElse("").contains("\"step_s\":"), bench.out());
        Path out = dir.resolve("out.npz");
        CliRun infer = CliRun.of("infer", "--backbone", swin.toString(), "--input",
                swin.resolveSibling("input.npy").toString(), "--output", out.toString());
        assertEquals(0, infer.code(), infer.err());
        StateDict reference = NpzReader.readNpz(swin.resolveSibling("onnx_reference.npz"));
        assertTrue(maxAbsDiff(NpzReader.readNpz(out).get("logits"), reference.get("logits")) <= 1e-4);
    }

    @Test
    void kerasH5TakesNchwInputToo(@TempDir Path dir) {
        Path keras = Path.of("..", "sa2vp-layers", "src", "test", "resources", "fixtures", "keras");
        StateDict reference = NpzReader.readNpz(keras.resolve("vit_tiny_reference.npz"));
        Path nchw = dir.resolve("x.npy");
        org.sa2vp.backbone.weights.NpzWriter.writeNpy(nchw, reference.get("input").permute(0, 3, 1, 2));
        Path out = dir.resolve("out.npz");
        assertEquals(0, Sa2vpCli.execute("infer", "--backbone", keras.resolve("vit_tiny.h5").toString(), "--input",
                nchw.toString(), "--output", out.toString()));
        assertTrue(maxAbsDiff(NpzReader.readNpz(out).get("logits"), reference.get("logits")) <= 1e-4);
    }

    /**
     * A Keras {@code .h5} Swin (the tfjs-written fixture of sa2vp-layers, 32×32 images) is taken as a Swin file
     * wherever one is: {@code info} describes it, {@code bench} runs an SA2VP-Swin training step on it,
     * {@code train} trains SA2VP-Swin on it, and {@code infer} without prompts writes tfjs's logits and features
     * within 1e-4 from the NCHW images (the Keras input, NHWC, permuted), as for a ViT {@code .h5}.
     */
    @Test
    void aKerasSwinH5IsASwinBackbone(@TempDir Path dir) {
        Path keras = Path.of("..", "sa2vp-layers", "src", "test", "resources", "fixtures", "keras");
        Path h5 = keras.resolve("swin_tiny.h5");
        CliRun info = CliRun.of("info", "--backbone", h5.toString());
        assertEquals(0, info.code(), info.err());
        assertTrue(info.out().startsWith("swin_tiny.h5 (family swin): embed 16, depths [2, 2], heads [2, 4], "
                + "window 4, patch 2, 32x32 images"), info.out());
        CliRun bench = CliRun.of("bench", "--backbone", h5.toString(), "--batch", "2", "--steps", "1",
                "--classes", "5");
        assertEquals(0, bench.code(), bench.err());
        assertTrue(bench.out().strip().lines().reduce((a, b) -> b).orElse("").contains("\"step_s\":"), bench.out());

        Path x = dir.resolve("x.npy"), y = dir.resolve("y.npy");
        org.sa2vp.backbone.weights.NpzWriter.writeNpy(x, org.nd4j.linalg.factory.Nd4j.rand(
                org.nd4j.linalg.api.buffer.DataType.FLOAT, 4, 3, 32, 32));
        org.sa2vp.backbone.weights.NpzWriter.writeNpy(y, org.nd4j.linalg.factory.Nd4j.createFromArray(
                0f, 1f, 2f, 0f));
        CliRun trained = CliRun.of("train", "--backbone", h5.toString(), "--method", "sa2vp", "--train",
                x.toString(), "--train-labels", y.toString(), "--val", x.toString(), "--val-labels", y.toString(),
                "--out", dir.resolve("run").toString(), "--epochs", "1", "--warmup-epochs", "0", "--batch-size", "2");
        assertEquals(0, trained.code(), trained.err());
        assertTrue(trained.out().contains("finished 1 epochs: best validation accuracy"), trained.out());

        StateDict reference = NpzReader.readNpz(keras.resolve("swin_tiny_reference.npz"));
        Path nchw = dir.resolve("images.npy");
        org.sa2vp.backbone.weights.NpzWriter.writeNpy(nchw, reference.get("input").permute(0, 3, 1, 2));
        Path out = dir.resolve("out.npz");
        CliRun infer = CliRun.of("infer", "--backbone", h5.toString(), "--input", nchw.toString(), "--output",
                out.toString());
        assertEquals(0, infer.code(), infer.err());
        StateDict result = NpzReader.readNpz(out);
        assertTrue(maxAbsDiff(result.get("logits"), reference.get("logits")) <= 1e-4);
        assertTrue(maxAbsDiff(result.get("features"), reference.get("features")) <= 1e-4);
    }

    @Test
    void aZooBackboneRunsAsItsCheckpointDoes(@TempDir Path dir) {
        INDArray images = org.nd4j.linalg.factory.Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 2, 1, 32, 32);
        Path input = dir.resolve("x.npy");
        org.sa2vp.backbone.weights.NpzWriter.writeNpy(input, images);
        Path out = dir.resolve("out.npz");
        assertEquals(0, Sa2vpCli.execute("infer", "--backbone", "zoo:" + org.sa2vp.zoo.PretrainedTinyVit.NAME,
                "--input", input.toString(), "--output", out.toString()));
        INDArray expected = org.sa2vp.backbone.vit.VisionTransformer.features(
                org.sa2vp.zoo.PretrainedTinyVit.backbone().toGraph(), images);
        assertEquals(0.0, maxAbsDiff(NpzReader.readNpz(out).get("features"), expected), 1e-6);
    }

    @Test
    void userErrorsAreOneLineWithExitCode2(@TempDir Path dir) {
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true));
        int code;
        try {
            code = Sa2vpCli.execute("infer", "--backbone", fixture("google.npz").toString(), "--input",
                    fixture("input.npy").toString(), "--output", dir.resolve("o.npz").toString(), "--heads", "4");
        } finally {
            System.setErr(err);
        }
        assertEquals(2, code);
        String message = captured.toString().strip();
        assertFalse(message.contains("\n"), message);
        assertTrue(message.startsWith("sa2vp infer: ") && message.contains("google.npz")
                && message.contains("--heads 4"), message);
        assertFalse(dir.resolve("o.npz").toFile().exists());
    }
}
