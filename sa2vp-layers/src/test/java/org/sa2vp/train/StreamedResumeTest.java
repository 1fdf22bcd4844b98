package org.sa2vp.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sa2vp.data.ImagePreprocessing;
import org.sa2vp.data.StreamedImages;
import org.sa2vp.model.Sa2vpConfig;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exact resume on images streamed from disk with the authors' FGVC augmentation (random crop and flip drawn from
 * seed, epoch and index): a run stopped inside its second epoch and resumed from a new {@link StreamedImages} of the
 * same folder, named by another path, ends with the parameters and history of an uninterrupted run.
 */
class StreamedResumeTest {

    private static final int EPOCHS = 2;

    private static Path folder(Path root) throws IOException {
        Random random = new Random(5);
        for (int c = 0; c < TinySa2vp.CLASSES; c++) {
            Path dir = Files.createDirectories(root.resolve("train").resolve("class_" + c));
            for (int i = 0; i < 8; i++) {
                BufferedImage image = new BufferedImage(20, 18, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < 18; y++) {
                    for (int x = 0; x < 20; x++) {
                        image.setRGB(x, y, random.nextInt(1 << 24) | (c * 80) << 16);
                    }
                }
                ImageIO.write(image, "png", dir.resolve(i + ".png").toFile());
            }
        }
        return root;
    }

    private static TrainingRecipe recipe() {
        return TrainingRecipe.builder().learningRate(2e-2).minLearningRate(1e-4).weightDecay(1e-2).epochs(EPOCHS)
                .warmupEpochs(1).batchSize(8).seed(7).build();
    }

    private static StreamedImages images(Path data) {
        return StreamedImages.open(data, "train", ImagePreprocessing.fgvc().forInput(3, 16, 16), true);
    }

    private static ProgressBar quiet() {
        return new ProgressBar(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), false);
    }

    @Test
    void aStoppedRunResumesExactlyOnStreamedAugmentedImages(@TempDir Path tmp) throws IOException {
        Path data = folder(tmp.resolve("images"));
        Sa2vpConfig config = TinySa2vp.config(0.1);
        StreamedImages train = images(data);
        assertEquals(24, train.size());

        Trainer straight = Trainer.start(Trainer.newGraph(config, recipe(), train.size()), config, recipe(), train,
                null, tmp.resolve("straight")).progress(quiet());
        assertTrue(straight.fit().finished());

        Path run = tmp.resolve("stopped");
        Trainer first = Trainer.start(Trainer.newGraph(config, recipe(), train.size()), config, recipe(),
                images(data), null, run).progress(quiet()).addListener(TinySa2vp.stopAt(1, 1));
        assertFalse(first.fit().finished());
        Trainer resumed = Trainer.resume(run, images(tmp.resolve("images/../images")), null).progress(quiet());
        assertTrue(resumed.fit().finished());

        ComputationGraph a = straight.graph(), b = resumed.graph();
        assertEquals(a.params(), b.params());
        assertEquals(straight.history().get(EPOCHS - 1).getTrainLoss(), resumed.history().get(EPOCHS - 1)
                .getTrainLoss(), 0.0);
    }
}
