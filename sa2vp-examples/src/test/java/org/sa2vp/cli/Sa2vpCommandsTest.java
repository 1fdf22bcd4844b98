package org.sa2vp.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.backbone.weights.NpzReader;
import org.sa2vp.backbone.weights.NpzWriter;
import org.sa2vp.backbone.weights.StateDict;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code sa2vp infer --prompts}, {@code info} and {@code bench} on the fixtures of the independent PyTorch SA2VP
 * implementation (sa2vp-layers/src/test/resources/fixtures/sa2vp).
 */
class Sa2vpCommandsTest {

    static Path sa2vpFixture(String name) {
        return Path.of("..", "sa2vp-layers", "src", "test", "resources", "fixtures", "sa2vp", name);
    }

    private static String stdout(Runnable body) {
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true));
        try {
            body.run();
        } finally {
            System.setOut(out);
        }
        return captured.toString();
    }

    @Test
    void inferWithPromptsReproducesTheAuthorsModel(@TempDir Path dir) throws Exception {
        Map<String, INDArray> reference = Nd4j.createFromNpzFile(new File(sa2vpFixture("case.npz").toString()));
        Path images = dir.resolve("x.npy");
        NpzWriter.writeNpy(images, reference.get("input").castTo(DataType.FLOAT));
        Path out = dir.resolve("out.npz");
        // The fixture's γ is 0.5; rank 4, adapter 8, two deep maps and 10 classes come from the tensors.
        assertEquals(0, Sa2vpCli.execute("infer", "--backbone", sa2vpFixture("backbone_google.npz").toString(),
                "--prompts", sa2vpFixture("sa2vp_params.safetensors").toString(), "--gamma", "0.5", "--input",
                images.toString(), "--output", out.toString()));
        StateDict result = NpzReader.readNpz(out);
        double base = result.get("base_logits").castTo(DataType.DOUBLE).sub(reference.get("logits_img"))
                .amaxNumber().doubleValue();
        double prompt = result.get("prompt_logits").castTo(DataType.DOUBLE).sub(reference.get("logits_prm"))
                .amaxNumber().doubleValue();
        assertTrue(base <= 1e-4 && prompt <= 1e-4, "base " + base + ", prompt " + prompt);
    }

    @Test
    void inferRejectsPromptsWithAnotherNumberOfDeepMaps(@TempDir Path dir) throws Exception {
        Map<String, INDArray> reference = Nd4j.createFromNpzFile(new File(sa2vpFixture("case.npz").toString()));
        Path images = dir.resolve("x.npy");
        NpzWriter.writeNpy(images, reference.get("input").castTo(DataType.FLOAT));
        assertEquals(2, Sa2vpCli.execute("infer", "--backbone", sa2vpFixture("backbone_google.npz").toString(),
                "--prompts", sa2vpFixture("sa2vp_params.npz").toString(), "--deep-prompt-layers", "3", "--input",
                images.toString(), "--output", dir.resolve("o.npz").toString()));
    }

    static Path swinFixture(String name) {
        return Path.of("..", "sa2vp-layers", "src", "test", "resources", "fixtures", "sa2vp-swin", name);
    }

    /**
     * A Swin backbone with the authors' SA2VP-Swin tensors: both streams' logits as the independent PyTorch
     * implementation's (float64) within 1e-5. Rank 4, adapter 8 and 10 classes come from the tensors; stage 2,
     * image→prompt at blocks 0 and 6, γ 0.5 and the 3×3 window are the authors' defaults on this backbone.
     */
    @Test
    void inferWithPromptsReproducesSa2vpSwin(@TempDir Path dir) throws Exception {
        Map<String, INDArray> input = Nd4j.createFromNpzFile(new File(swinFixture("input.npz").toString()));
        Map<String, INDArray> expected = Nd4j.createFromNpzFile(new File(swinFixture("expected.npz").toString()));
        Path images = dir.resolve("x.npy");
        NpzWriter.writeNpy(images, input.get("images").castTo(DataType.FLOAT));
        Path out = dir.resolve("out.npz");
        CliRun run = CliRun.of("infer", "--backbone", swinFixture("backbone.safetensors").toString(), "--prompts",
                swinFixture("sa2vp.safetensors").toString(), "--input", images.toString(), "--output",
                out.toString());
        assertEquals(0, run.code(), run.err());
        assertTrue(run.err().contains(": SA2VP-Swin rank 4, adapter 8, interaction stage 2 (image->prompt at blocks "
                + "[0, 6]), 10 classes\n"), run.err());
        StateDict result = NpzReader.readNpz(out);
        assertEquals(java.util.Set.of("base_logits", "prompt_logits"), result.keys());
        double base = result.get("base_logits").castTo(DataType.DOUBLE).sub(expected.get("logits_image"))
                .amaxNumber().doubleValue();
        double prompt = result.get("prompt_logits").castTo(DataType.DOUBLE).sub(expected.get("logits_prompt"))
                .amaxNumber().doubleValue();
        System.out.printf("infer SA2VP-Swin: max|Δ| base logits %.2e, prompt logits %.2e%n", base, prompt);
        assertTrue(base <= 1e-5 && prompt <= 1e-5, "base " + base + ", prompt " + prompt);

        // A different γ changes the logits: the option reaches SA2VP-Swin.
        Path other = dir.resolve("gamma.npz");
        assertEquals(0, Sa2vpCli.execute("infer", "--backbone", swinFixture("backbone.safetensors").toString(),
                "--prompts", swinFixture("sa2vp.safetensors").toString(), "--gamma", "0.1", "--input",
                images.toString(), "--output", other.toString()));
        assertTrue(NpzReader.readNpz(other).get("prompt_logits").castTo(DataType.DOUBLE)
                .sub(expected.get("logits_prompt")).amaxNumber().doubleValue() > 1e-3);

        CliRun deep = CliRun.of("infer", "--backbone", swinFixture("backbone.safetensors").toString(), "--prompts",
                swinFixture("sa2vp.safetensors").toString(), "--deep-prompt-layers", "3", "--input",
                images.toString(), "--output", dir.resolve("o.npz").toString());
        assertEquals(2, deep.code());
        assertEquals("sa2vp infer: --deep-prompt-layers is an option of SA2VP on the ViT; SA2VP on swin has the "
                + "settings interactionStage, imageToPromptBlocks, windowSize, promptRank, adapterSize, gamma, "
                + "lossWeight, interactionLayerNormEps, attentionDropout, adapterDropout (train: --set NAME=VALUE)",
                deep.err().strip().lines().reduce((a, b) -> b).orElseThrow());
    }

    /**
     * predict takes what sa2vp train writes, of any method; the authors' bare state dict has no configuration, so it
     * is refused in one line ({@code infer --prompts} runs it). Predicting with a trained adapter: ImageCommandsTest.
     */
    @Test
    void predictRefusesParametersWithoutAConfiguration(@TempDir Path dir) throws Exception {
        java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(8, 8,
                java.awt.image.BufferedImage.TYPE_INT_RGB);
        Path png = dir.resolve("black.png");
        javax.imageio.ImageIO.write(image, "png", png.toFile());
        Path params = sa2vpFixture("sa2vp_params.safetensors");
        CliRun run = CliRun.of("predict", "--backbone", sa2vpFixture("backbone_google.npz").toString(), "--prompts",
                params.toString(), png.toString());
        assertEquals(2, run.code());
        assertEquals("sa2vp predict: " + params + ": no tuning method configurations in its metadata, where sa2vp "
                + "train writes one", run.err().strip());
    }

    @Test
    void infoPrintsTheAuthorsTrainableCountForVitB16() {
        String text = stdout(() -> assertEquals(0, Sa2vpCli.execute("info", "--model", "vit_base_patch16_224",
                "--classes", "10")));
        assertTrue(text.contains("trainable without head 372,912"), text);
        assertTrue(text.contains("head 7,690"), text);
        assertTrue(text.contains("backbone (frozen) 85,798,656"), text);
        assertTrue(text.contains("= 0.43%"), text);
        assertTrue(text.contains("vit_base.transformer.encoder.cross_attn.11.ffn.fc2.weight"), text);
    }

    @Test
    void infoSystemPrintsTheKernelsInUse() {
        String text = stdout(() -> assertEquals(0, Sa2vpCli.execute("info", "--system")));
        String[] lines = text.split("\n");
        assertTrue(lines[0].startsWith("CPU: ") && lines[1].startsWith("vector instructions: "), text);
        // The core type OpenBLAS reports in a child JVM with this environment: the one the environment pins (the test
        // runs keep it; the launcher did not run), or OpenBLAS's own pick.
        String core = lines[2].replaceFirst("^OpenBLAS core type in use: (\\S+) \\(.*$", "$1");
        String pinned = System.getenv("OPENBLAS_CORETYPE");
        if (pinned != null) {
            assertTrue(core.equalsIgnoreCase(pinned), text);
            assertTrue(lines[2].endsWith("(OPENBLAS_CORETYPE from the environment; the sa2vp launcher did not run)"),
                    text);
        } else {
            assertTrue(core.matches("[A-Za-z0-9]+") && !core.equals("unknown"), text);
        }
        assertTrue(lines[3].startsWith("ND4J: CpuBackend; native library level "), text);
        assertTrue(text.contains("  ND4J threads "), text);
    }

    @Test
    void infoPrintsAnotherFamilysVariantFromTheRegistry() {
        String text = stdout(() -> assertEquals(0, Sa2vpCli.execute("info", "--model",
                "swin_base_patch4_window7_224")));
        assertTrue(text.startsWith("swin_base_patch4_window7_224 (family swin): embed 128, depths [2, 2, 18, 2], heads "
                + "[4, 8, 16, 32], window 7, patch 4, 224x224 images, 3 channels, MLP ratio 4.0"), text);
        assertTrue(text.contains("  stage: 56x56 tokens, width 128, depth 2, 4 heads\n"), text);
        assertTrue(text.contains("  stage: 7x7 tokens, width 1024, depth 2, 32 heads\n"), text);
        assertTrue(text.contains("  backbone 86,743,224 parameters; features 1024 wide"), text);
        // SA2VP-Swin's tensors under the authors' names: 201,488 without the head (docs/AUTHORS-CODE.md §2.5).
        assertTrue(text.contains("SA2VP on swin_base_patch4_window7_224: interaction in stage 2 (image->prompt at "
                + "blocks [0, 6, 12]), rank 8, adapter 8, gamma 0.5, lambda 0.8, window 3, drop-path 0.2\n"), text);
        assertTrue(text.contains("  patch_embed.deep_ppt"), text);
        assertTrue(text.contains("[1, 3136, 8]"), text);
        assertTrue(text.contains("  layers.2.cross_attn.17.ffn.fc2.bias"), text);
        assertTrue(text.contains("  trainable without head 201,488; head 102,500; total 303,988\n"), text);
        assertTrue(text.contains("  tuned / total = 201,488 / 86,944,712 = 0.23% (the authors' printed rate, "
                + "without head)\n"), text);
    }

    @Test
    void benchPrintsOneJsonLine() {
        String text = stdout(() -> assertEquals(0, Sa2vpCli.execute("bench", "--backbone",
                sa2vpFixture("backbone_google.npz").toString(), "--batch", "2", "--steps", "1", "--classes", "5")));
        String last = text.strip().lines().reduce((a, b) -> b).orElse("");
        assertTrue(last.startsWith("{") && last.contains("\"step_s\"") && last.contains("\"images_per_s\"")
                && last.contains("\"peak_rss_mb\""), last);
    }

    /** bench (and info) on the Swin: SA2VP-Swin's step, on a Swin file (the layers' 40×40 fixture) or timm's Swin-T variant. */
    @Test
    void benchTimesSa2vpSwin() {
        Path swin = Path.of("..", "sa2vp-layers", "src", "test", "resources", "fixtures", "swin",
                "microsoft_model.pth");
        String file = stdout(() -> assertEquals(0, Sa2vpCli.execute("bench", "--backbone", swin.toString(),
                "--image-size", "40", "--batch", "2", "--steps", "1", "--classes", "5")));
        String last = file.strip().lines().reduce((a, b) -> b).orElse("");
        assertTrue(last.startsWith("{\"impl\":\"dl4j\",\"model\":\"" + swin + "\",\"batch\":2,") && last.contains(
                "\"step_s\":") && last.contains("\"peak_rss_mb\":"), last);

        String tiny = stdout(() -> assertEquals(0, Sa2vpCli.execute("bench", "--model",
                "swin_tiny_patch4_window7_224", "--batch", "1", "--steps", "1", "--classes", "5")));
        last = tiny.strip().lines().reduce((a, b) -> b).orElse("");
        assertTrue(last.startsWith("{\"impl\":\"dl4j\",\"model\":\"swin_tiny_patch4_window7_224\",\"batch\":1,"),
                last);

        String info = stdout(() -> assertEquals(0, Sa2vpCli.execute("info", "--backbone", swin.toString(),
                "--image-size", "40", "--classes", "3")));
        assertTrue(info.startsWith(swin + " (family swin): embed 4, depths [2, 2, 2, 2], heads [1, 2, 2, 4], window 4,"
                + " patch 4, 40x40 images"), info);

        // Equal work without dropout: --dropout sets both of SA2VP-Swin's dropouts, --drop-path the blocks' rate.
        String still = stdout(() -> assertEquals(0, Sa2vpCli.execute("bench", "--backbone", swin.toString(),
                "--image-size", "40", "--batch", "2", "--steps", "1", "--classes", "5", "--dropout", "0",
                "--drop-path", "0")));
        assertTrue(still.strip().lines().reduce((a, b) -> b).orElse("").contains("\"step_s\":"), still);
        CliRun vit = CliRun.of("bench", "--model", "vit_tiny_patch16_224", "--drop-path", "0.1");
        assertEquals(2, vit.code());
        assertEquals("sa2vp bench: --drop-path is stochastic depth of a Swin backbone; SA2VP on the ViT has none",
                vit.err().strip().lines().reduce((a, b) -> b).orElseThrow());
        CliRun vpt = CliRun.of("bench", "--method", "vpt-deep", "--backbone", swin.toString(), "--image-size", "40",
                "--drop-path", "0.1");
        assertEquals(2, vpt.code());
        assertEquals("sa2vp bench: --drop-path sets the stochastic depth of SA2VP-Swin's frozen blocks, not of "
                + "vpt-deep", vpt.err().strip().lines().reduce((a, b) -> b).orElseThrow());
    }

    /**
     * bench --method: every baseline's step on the Swin file and VPT-deep on timm's Swin-T variant; SA2VP's options
     * and --compare-pytorch are refused for a baseline in one line.
     */
    @Test
    void benchTimesEveryBaselineOnASwin() {
        Path swin = Path.of("..", "sa2vp-layers", "src", "test", "resources", "fixtures", "swin",
                "microsoft_model.pth");
        for (String method : List.of("linear-probe", "full-finetune", "vpt-shallow", "vpt-deep")) {
            String out = stdout(() -> assertEquals(0, Sa2vpCli.execute("bench", "--method", method, "--backbone",
                    swin.toString(), "--image-size", "40", "--batch", "2", "--steps", "1", "--classes", "5")));
            String last = out.strip().lines().reduce((a, b) -> b).orElse("");
            assertTrue(last.startsWith("{\"impl\":\"dl4j\",\"model\":\"" + swin + "\",\"batch\":2,")
                    && last.contains("\"step_s\":"), method + ": " + last);
        }
        String tiny = stdout(() -> assertEquals(0, Sa2vpCli.execute("bench", "--method", "vpt-deep", "--model",
                "swin_tiny_patch4_window7_224", "--batch", "1", "--steps", "1", "--classes", "5")));
        String last = tiny.strip().lines().reduce((a, b) -> b).orElse("");
        assertTrue(last.startsWith("{\"impl\":\"dl4j\",\"model\":\"swin_tiny_patch4_window7_224\",\"batch\":1,"),
                last);

        CliRun rank = CliRun.of("bench", "--method", "vpt-deep", "--backbone", swin.toString(), "--image-size", "40",
                "--rank", "4");
        assertEquals(2, rank.code());
        assertEquals("sa2vp bench: SA2VP options (--rank, --gamma, ...) apply to --method sa2vp only, not vpt-deep",
                rank.err().strip().lines().reduce((a, b) -> b).orElseThrow());
        CliRun torch = CliRun.of("bench", "--method", "linear-probe", "--model", "vit_tiny_patch16_224",
                "--compare-pytorch");
        assertEquals(2, torch.code());
        assertEquals("sa2vp bench: --compare-pytorch times SA2VP (tools/bench/torch_sa2vp_step.py, "
                + "torch_sa2vp_swin_step.py), not linear-probe", torch.err().strip().lines().reduce((a, b) -> b).orElseThrow());
    }
}
