package org.sa2vp.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.backbone.weights.SafetensorsReader;
import org.sa2vp.zoo.FashionMnistSample;
import org.sa2vp.zoo.PretrainedTinyVit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

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
}
