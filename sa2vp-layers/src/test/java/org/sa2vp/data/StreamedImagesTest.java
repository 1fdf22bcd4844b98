package org.sa2vp.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sa2vp.data.ImageTransformsTest.fixture;
import static org.sa2vp.data.ImageTransformsTest.fixtureFile;

/**
 * Decoding through DataVec's NativeImageLoader and the authors' preprocessing against Pillow / PyTorch fixtures
 * ({@code tools/reference/make_image_fixtures.py}), channel conversions, seeded augmentation and corrupt files.
 */
class StreamedImagesTest {

    private static final double[] IDENTITY_MEAN = {0};
    private static final double[] IDENTITY_STD = {1};

    private static ImageList listOf(Path... files) {
        int[] labels = new int[files.length];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = i % 2;
        }
        return new ImageList(List.of(files), labels, List.of("even", "odd"), "test list");
    }

    private static double maxDifference(INDArray a, INDArray b) {
        assertArrayEquals(b.shape(), a.shape());
        return a.sub(b).amaxNumber().doubleValue();
    }

    @Test
    void theAuthorsPipelinesMatchPyTorchAndPillow() {
        Path photo = fixtureFile("photo.png");
        // vtab1k scaled down: stretch 13×10 → 8×6, mean/std 0.5.
        StreamedImages vtab = StreamedImages.of(listOf(photo), ImagePreprocessing.vtab1k().withResizeHeight(8)
                .withResizeWidth(6), true);
        INDArray stretched = vtab.batch(new int[]{0}).images();
        assertTrue(maxDifference(stretched, fixture("photo_vtab_torch")) < 1e-5);
        // Pillow resizes in two 8-bit passes (width, then height), rounding after each: the fixtures show up to 0.93
        // of an 8-bit step from the exact result, so one step, ×2 after the 0.5 std.
        assertTrue(maxDifference(stretched, fixture("photo_vtab_pil")) <= 2.0 / 255);
        assertEquals(stretched, vtab.batch(new int[]{0}, 3).images(), "no random augmentation in vtab1k");

        // fgvc scaled down, evaluation: shorter side 6 (13×10 → 7×6), centre crop 5×5.
        StreamedImages fgvc = StreamedImages.of(listOf(photo), ImagePreprocessing.fgvc().withResizeShorterSide(6)
                .withCropHeight(5).withCropWidth(5), true);
        INDArray centre = fgvc.batch(new int[]{0}).images();
        assertTrue(maxDifference(centre, fixture("photo_fgvc_eval_torch")) < 1e-5);
        assertTrue(maxDifference(centre, fixture("photo_fgvc_eval_pil")) <= 2.0 / 255);

        // RGB → grey for 1-channel backbones: BT.601 as Pillow's convert("L"), which rounds to 8 bits.
        StreamedImages grey = StreamedImages.of(listOf(photo), ImagePreprocessing.builder().channels(1)
                .resizeHeight(13).resizeWidth(10).mean(IDENTITY_MEAN).std(IDENTITY_STD).build(), true);
        assertTrue(maxDifference(grey.batch(new int[]{0}).images(), fixture("photo_grey_pil")) <= 0.5 / 255 + 1e-6);
    }

    @Test
    void sixteenBitGreyAndTransparentImagesConvert(@TempDir Path dir) throws IOException {
        BufferedImage grey16 = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY);
        grey16.getRaster().setSamples(0, 0, 2, 1, 0, new int[]{1000, 65535});
        Path grey = dir.resolve("grey16.png");
        ImageIO.write(grey16, "png", grey.toFile());
        BufferedImage rgba = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
        rgba.setRGB(0, 0, 0x80FF0000);
        rgba.setRGB(1, 0, 0xFF0000FF);
        Path transparent = dir.resolve("rgba.png");
        ImageIO.write(rgba, "png", transparent.toFile());
        ImagePreprocessing asIs = ImagePreprocessing.builder().resizeHeight(1).resizeWidth(2).mean(IDENTITY_MEAN)
                .std(IDENTITY_STD).build();

        INDArray images = StreamedImages.of(listOf(grey, transparent), asIs, true).batch(new int[]{0, 1}).images();
        assertArrayEquals(new long[]{2, 3, 1, 2}, images.shape());
        for (int c = 0; c < 3; c++) {
            assertArrayEquals(new float[]{1000 / 65535f, 1}, images.slice(0).slice(c).reshape(2).toFloatVector(),
                    1e-7f, "16-bit grey scaled by 1/65535, copied to channel " + c);
        }
        float alpha = 128 / 255f;
        assertArrayEquals(new float[]{1, 0, 1 - alpha, 0, 1 - alpha, 1}, images.slice(1).reshape(6).toFloatVector(),
                1e-6f, "R, G, B planes of half-transparent red and opaque blue, composited on white");

        INDArray asGrey = StreamedImages.of(listOf(transparent), asIs.withChannels(1), true).batch(new int[]{0})
                .images();
        assertArrayEquals(new float[]{0.299f + 0.587f * (1 - alpha) + 0.114f * (1 - alpha), 0.114f},
                asGrey.reshape(2).toFloatVector(), 1e-6f);
    }

    @Test
    void randomCropAndFlipArePureFunctionsOfSeedEpochAndIndex() {
        Path photo = fixtureFile("photo.png");
        ImagePreprocessing augmenting = ImagePreprocessing.fgvc().withResizeShorterSide(10).withCropHeight(8)
                .withCropWidth(8).withCropPadding(2);
        int[] indices = {0, 1, 2, 3, 1};
        StreamedImages run = StreamedImages.of(listOf(photo, photo, photo, photo), augmenting, true);
        StreamedImages resumed = StreamedImages.of(listOf(photo, photo, photo, photo), augmenting, true);
        INDArray epoch5 = run.batch(indices, 5).images();
        assertEquals(epoch5, resumed.batch(indices, 5).images(), "a resumed run draws the same pixels");
        assertEquals(epoch5.slice(1), epoch5.slice(4), "the same index in one epoch is the same draw");
        assertNotEquals(epoch5, run.batch(indices, 6).images(), "another epoch, other draws");
        assertNotEquals(epoch5, StreamedImages.of(run.list(), augmenting.withSeed(7), true).batch(indices, 5)
                .images(), "another seed, other draws");
        // Evaluation: the centre crop of the unpadded image, the same for every index.
        INDArray eval = run.batch(new int[]{0, 3}).images();
        assertEquals(eval.slice(0), eval.slice(1));
        assertEquals(eval, StreamedImages.of(run.list(), augmenting.withCropPadding(0).withHorizontalFlip(false)
                .withCrop(ImagePreprocessing.Crop.CENTER), true).batch(new int[]{0, 3}, 9).images());
    }

    @Test
    void corruptImagesAreReplacedInTrainingLeftOutOfEvaluationOrFatalWhenStrict(@TempDir Path dir) throws IOException {
        Path good = fixtureFile("photo.png");
        Path truncated = dir.resolve("truncated.png");
        Files.write(truncated, java.util.Arrays.copyOf(Files.readAllBytes(good), 40));
        Path text = dir.resolve("notes.jpg");
        Files.writeString(text, "not an image");
        ImageList list = new ImageList(List.of(good, truncated, text, good), new int[]{0, 1, 1, 0},
                List.of("a", "b"), "corrupt list");
        ImagePreprocessing small = ImagePreprocessing.vtab1k().withResizeHeight(4).withResizeWidth(4);

        StreamedImages lenient = StreamedImages.of(list, small, false);
        LabelledImages.Batch batch = lenient.batch(new int[]{1, 2, 0, 1}, 0);
        assertArrayEquals(new int[]{0, 0, 0, 0}, batch.labels(), "both corrupt images take image 3's label");
        assertEquals(batch.images().slice(2), batch.images().slice(0));
        assertEquals(2, lenient.skippedImages());
        lenient.batch(new int[]{1, 2}, 1);
        assertEquals(2, lenient.skippedImages(), "counted once per file");
        LabelledImages.Batch evaluation = lenient.batch(new int[]{1, 2, 0, 3});
        assertArrayEquals(new int[]{0, 0}, evaluation.labels(), "an evaluation leaves the corrupt images out");
        assertEquals(2, evaluation.images().size(0));

        StreamedImages strict = StreamedImages.of(list, small, true);
        strict.batch(new int[]{0, 3});
        String message = assertThrows(IllegalArgumentException.class, () -> strict.batch(new int[]{0, 2}))
                .getMessage();
        assertTrue(message.startsWith("image " + text + " (corrupt list, index 2) is unreadable: "), message);
        assertTrue(!message.contains("\n"), message);

        ImageList allBad = new ImageList(List.of(truncated, text), new int[]{0, 1}, List.of("a", "b"), "bad list");
        String none = assertThrows(IllegalArgumentException.class,
                () -> StreamedImages.of(allBad, small, false).batch(new int[]{1}, 0)).getMessage();
        assertTrue(none.startsWith("bad list: no image of the 2 is readable (first: " + text), none);
    }

    @Test
    void preprocessingIsAValidatedJsonConfiguration() {
        ImagePreprocessing fgvc = ImagePreprocessing.preset("fgvc");
        assertEquals(fgvc, ImagePreprocessing.fromJson(fgvc.toJson()));
        assertEquals(ImagePreprocessing.vtab1k(), ImagePreprocessing.fromJson("{}"), "defaults are vtab1k");
        assertEquals(224, fgvc.outputHeight());
        assertEquals("unknown preprocessing preset 'cifar', expected one of [vtab1k, fgvc]",
                assertThrows(IllegalArgumentException.class, () -> ImagePreprocessing.preset("cifar")).getMessage());
        assertEquals("ImagePreprocessing: crop must be CENTER or RANDOM with resize SHORTER_SIDE (the longer side "
                + "varies), got NONE", assertThrows(IllegalArgumentException.class,
                () -> fgvc.withCrop(ImagePreprocessing.Crop.NONE).validated()).getMessage());
        assertEquals("ImagePreprocessing: std must be 1 or 3 values > 0, got [0.5, 0.0, 0.5]",
                assertThrows(IllegalArgumentException.class,
                        () -> fgvc.withStd(new double[]{0.5, 0, 0.5}).validated()).getMessage());
        assertEquals("ImagePreprocessing: cropHeight × cropWidth must be at most the resized size, got 300×224",
                assertThrows(IllegalArgumentException.class, () -> fgvc.withCropHeight(300).validated())
                        .getMessage());
    }
}
