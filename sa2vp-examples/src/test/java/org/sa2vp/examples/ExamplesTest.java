package org.sa2vp.examples;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sa2vp.train.EvaluationResult;
import org.sa2vp.train.Trainer;
import org.sa2vp.zoo.PretrainedTinyVit;
import org.sa2vp.zoo.ZooBackbones;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every example main on tiny data: an image folder with train/val/test splits of 3 classes (a bright blob top-left,
 * bottom-right or in the centre of noisy 24×24 grey PNGs). The examples chain as a user would: prompt-tune with the
 * bundled backbone, evaluate and predict with the adapter it wrote, serve two adapters from one graph; attach to the
 * Keras fixture ViT.
 */
class ExamplesTest {

    private static final String BACKBONE = ZooBackbones.PREFIX + PretrainedTinyVit.NAME;
    private static final Path KERAS_VIT = Path.of("..", "sa2vp-layers", "src", "test", "resources", "fixtures",
            "keras", "vit_tiny.h5");

    @TempDir
    static Path dir;
    private static Path data;

    @BeforeAll
    static void images() throws IOException {
        data = dir.resolve("blobs");
        Random random = new Random(3);
        int[][] centres = {{6, 6}, {18, 18}, {12, 12}};
        String[] splits = {"train", "val", "test"};
        int[] perClass = {16, 6, 6};
        for (int s = 0; s < splits.length; s++) {
            for (int c = 0; c < 3; c++) {
                Path folder = Files.createDirectories(data.resolve(splits[s]).resolve("blob_" + c));
                for (int i = 0; i < perClass[s]; i++) {
                    BufferedImage image = new BufferedImage(24, 24, BufferedImage.TYPE_BYTE_GRAY);
                    for (int y = 0; y < 24; y++) {
                        for (int x = 0; x < 24; x++) {
                            double d = Math.hypot(y - centres[c][0], x - centres[c][1]);
                            image.getRaster().setSample(x, y, 0,
                                    (int) Math.min(255, 40 * random.nextDouble() + (d < 4 ? 200 : 0)));
                        }
                    }
                    ImageIO.write(image, "png", folder.resolve(i + ".png").toFile());
                }
            }
        }
    }

    @Test
    void promptTuneThenEvaluatePredictAndServe() {
        Path run = dir.resolve("run");
        Trainer.Result result = PromptTuneImageFolder.run(data, BACKBONE, run, 10, null);
        assertTrue(result.finished());
        assertTrue(result.bestAccuracy() >= 0.6, "SA2VP on the pretrained tiny ViT finds the blob (chance 1/3, measured 0.72): "
                + result.bestAccuracy());
        Path adapter = run.resolve(Trainer.ADAPTER);

        EvaluateAndPredict.Model model = EvaluateAndPredict.Model.load(BACKBONE, adapter);
        EvaluationResult test = EvaluateAndPredict.evaluate(model, data);
        assertEquals(18, test.count());
        int correct = 0;
        List<Path> images = new ArrayList<>();
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < 6; i++) {
                Path image = data.resolve("test").resolve("blob_" + c).resolve(i + ".png");
                images.add(image);
                correct += model.predict(image).label() == c ? 1 : 0;
            }
        }
        assertEquals(test.correct(), correct, "one image at a time classifies as the batched evaluation");

        // A second task: the same images with the classes renamed in another order, trained the same way.
        Path second = dir.resolve("run-2");
        PromptTuneImageFolder.run(data, BACKBONE, second, 2, null);
        ServeManyAdapters server = new ServeManyAdapters(BACKBONE, List.of(adapter,
                second.resolve(Trainer.ADAPTER)));
        EvaluateAndPredict.Model alone = EvaluateAndPredict.Model.load(BACKBONE, second.resolve(Trainer.ADAPTER));
        for (Path image : images.subList(0, 4)) {
            assertEquals(model.predict(image), server.predict(adapter, image), "task 1 after switching");
            assertEquals(alone.predict(image), server.predict(second.resolve(Trainer.ADAPTER), image), "task 2");
        }
        long perTask = server.bytesPerTask();
        System.out.printf("serving: shared graph %,d bytes, each further task %,d bytes%n", server.sharedBytes(),
                perTask);
        assertEquals(4L * model.method().trainableParameters(), perTask, "float32 trained values");
        assertTrue(perTask * 20 < server.sharedBytes(), perTask + " bytes per task, " + server.sharedBytes()
                + " shared");
        assertNotEquals(model.predict(images.get(0)).probability(), alone.predict(images.get(0)).probability());
    }

    @Test
    void attachToAKerasImportedVit() {
        AttachToKerasVit.Result result = AttachToKerasVit.run(KERAS_VIT, data, 3);
        assertEquals(18, result.after().count());
        assertEquals(List.of("blob_0", "blob_1", "blob_2"), result.after().classification().getLabelsList());
        assertTrue(result.after().loss() < result.before().loss(), "DL4J's fit trains the attached prompts: "
                + result.before().loss() + " -> " + result.after().loss());
    }
}
