package org.sa2vp.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.swin.SwinCheckpoint;
import org.sa2vp.backbone.swin.SwinTransformer;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.backbone.weights.SafetensorsReader;
import org.sa2vp.zoo.FashionMnistSample;
import org.sa2vp.zoo.PretrainedTinySwin;
import org.sa2vp.zoo.PretrainedTinyVit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code sa2vp pretrain} on a sliver of Fashion-MNIST (the bundled {@link FashionMnistSample}): it writes a
 * timm-named checkpoint of the bundled architecture that the loaders read back, and a summary whose checksum is the
 * file's. (The full run that made the bundled weights takes about an hour; its numbers are in docs/DATA.md.)
 */
class PretrainCommandTest {

    @Test
    void writesALoadableCheckpointAndItsChecksum(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("pretrain");
        CliRun run = CliRun.of("pretrain", "--data", FashionMnistSample.directory().toString(), "--out", out.toString(),
                "--train-images", "256", "--test-images", "200",
                "--epochs", "1", "--warmup-epochs", "0", "--batch-size", "64");
        assertEquals(0, run.code(), run.err());
        Path weights = out.resolve(PretrainedTinyVit.NAME + ".safetensors");
        String summary = Files.readString(out.resolve("pretrain.json"));
        assertTrue(summary.contains("\"sha256\": \"" + PretrainedTinyVit.sha256(weights) + "\""), summary);
        assertTrue(summary.contains("\"test_images\": 200") && summary.contains("\"train_images\": 256"), summary);
        assertTrue(SafetensorsReader.metadata(weights).containsKey("test_accuracy"));
        VitCheckpoint checkpoint = VitCheckpoint.read(weights, VitCheckpoint.Options.defaults().withNumHeads(3));
        assertEquals(PretrainedTinyVit.CONFIG, checkpoint.config().withName(PretrainedTinyVit.NAME));
        assertTrue(run.out().contains("test accuracy "), run.out());
    }

    /**
     * {@code --model} trains the tiny Swin the same way: its checkpoint reads back (Swin family, timm names) as
     * {@link PretrainedTinySwin#CONFIG} with its 10-class head, and the summary names the model and the file's checksum.
     */
    @Test
    void trainsTheTinySwinWithModel(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("pretrain-swin");
        CliRun run = CliRun.of("pretrain", "--model", PretrainedTinySwin.NAME, "--data",
                FashionMnistSample.directory().toString(), "--out", out.toString(), "--train-images", "128",
                "--test-images", "100", "--epochs", "1", "--warmup-epochs", "0", "--batch-size", "64");
        assertEquals(0, run.code(), run.err());
        Path weights = out.resolve(PretrainedTinySwin.NAME + ".safetensors");
        String summary = Files.readString(out.resolve("pretrain.json"));
        assertTrue(summary.contains("\"model\": \"" + PretrainedTinySwin.NAME + "\""), summary);
        assertTrue(summary.contains("\"sha256\": \"" + PretrainedTinyVit.sha256(weights) + "\""), summary);
        SwinCheckpoint checkpoint = SwinCheckpoint.read(weights, CheckpointOptions.defaults().withImageSize(32));
        assertEquals(PretrainedTinySwin.CONFIG, checkpoint.config().withName(PretrainedTinySwin.NAME));
        assertEquals(10, checkpoint.toGraph().getLayer(SwinTransformer.HEAD).getParam("b").length());

        // ... and a backbone mini-VTAB runs SA2VP-Swin on, read at the tasks' 32x32.
        Path table = dir.resolve("minivtab");
        CliRun miniVtab = CliRun.of("minivtab", "--backbone", weights.toString(), "--out", table.toString(),
                "--tasks", "digit_count", "--methods", "sa2vp", "--seeds", "1", "--epochs", "1");
        assertEquals(0, miniVtab.code(), miniVtab.err());
        List<String> csv = Files.readAllLines(table.resolve("results.csv"));
        assertEquals(2, csv.size(), "header + 1 run: " + csv);
        assertTrue(csv.get(1).startsWith("digit_count,STRUCTURED,sa2vp,42,"), csv.get(1));
    }
}
