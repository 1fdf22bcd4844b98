package org.sa2vp.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DTD, Food-101 and GTSRB in the files DAM-VP reads, on small generated trees: the layout is detected, the classes
 * are sorted as DAM-VP sorts them, the carved validation split is a fifth of the training images (Food-101) or of the
 * tracks (GTSRB) and disjoint from training, the test split is the official one, GTSRB's PPM images decode, and
 * anything that does not fit is one line naming the file.
 */
class DamVpSourcesTest {

    /** A binary PPM (P6) of w×h, every pixel (r, g, b). */
    static byte[] ppm(int w, int h, int r, int g, int b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(("P6\n" + w + " " + h + "\n255\n").getBytes(StandardCharsets.US_ASCII));
        for (int i = 0; i < w * h; i++) {
            out.write(r);
            out.write(g);
            out.write(b);
        }
        return out.toByteArray();
    }

    private static Path touch(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.write(file, ppm(2, 2, 0, 0, 0));
    }

    private static String error(Runnable listing) {
        return assertThrows(IllegalArgumentException.class, listing::run).getMessage();
    }

    @Test
    void dtdPartitionOne(@TempDir Path dir) throws IOException {
        Files.createDirectories(dir.resolve("labels"));
        for (String c : List.of("zigzagged", "banded", "dotted")) {
            for (String split : List.of("train", "val", "test")) {
                touch(dir.resolve("images/" + c + "/" + c + "_" + split + ".jpg"));
                Files.writeString(dir.resolve("labels/" + split + "1.txt"), c + "/" + c + "_" + split + ".jpg\n",
                        StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            }
        }
        Files.writeString(dir.resolve("labels/train2.txt"), "other partitions are not read\n");
        assertEquals(ImageSources.Layout.DTD_LISTS, ImageSources.layout(dir));
        ImageList train = ImageSources.detect(dir, "train");
        assertEquals(List.of("banded", "dotted", "zigzagged"), train.classNames());
        assertArrayEquals(new int[]{2, 0, 1}, train.labels(), "file order, labels by sorted class");
        assertEquals(dir.resolve("images/zigzagged/zigzagged_train.jpg"), train.files().get(0));
        assertEquals(3, ImageSources.detect(dir, "test").size());

        Files.writeString(dir.resolve("labels/val1.txt"), "banded/missing.jpg\n");
        assertEquals("image " + dir.resolve("images/banded/missing.jpg") + " (" + dir.resolve("labels/val1.txt")
                + ":1) not found", error(() -> ImageSources.detect(dir, "val")));
        Files.writeString(dir.resolve("labels/test1.txt"), "no-class.jpg\n");
        assertEquals(dir.resolve("labels/test1.txt") + ": 'no-class.jpg' is not <class>/<image>",
                error(() -> ImageSources.detect(dir, "train")));
        assertEquals("no split 'val200' in " + dir + "; it has the splits [train, val, test]",
                error(() -> ImageSources.detect(dir, "val200")));
    }

    @Test
    void food101HoldsOutEveryFifthImageOfEachClass(@TempDir Path dir) throws IOException {
        StringBuilder train = new StringBuilder("{"), test = new StringBuilder("{");
        for (String c : List.of("ramen", "apple_pie")) {
            List<String> ids = new ArrayList<>(), testIds = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                touch(dir.resolve("images/" + c + "/" + i + ".jpg"));
                ids.add("\"" + c + "/" + i + "\"");
            }
            touch(dir.resolve("images/" + c + "/t.jpg"));
            testIds.add("\"" + c + "/t\"");
            train.append(train.length() > 1 ? ", " : "").append('"').append(c).append("\": ").append(ids);
            test.append(test.length() > 1 ? ", " : "").append('"').append(c).append("\": ").append(testIds);
        }
        Files.createDirectories(dir.resolve("meta"));
        Files.writeString(dir.resolve("meta/train.json"), train + "}");
        Files.writeString(dir.resolve("meta/test.json"), test + "}");
        assertEquals(ImageSources.Layout.FOOD101_META, ImageSources.layout(dir));
        ImageList trainSplit = ImageSources.detect(dir, "train"), val = ImageSources.detect(dir, "val");
        assertEquals(List.of("apple_pie", "ramen"), trainSplit.classNames());
        assertEquals(16, trainSplit.size());
        assertEquals(List.of(dir.resolve("images/apple_pie/4.jpg"), dir.resolve("images/apple_pie/9.jpg"),
                dir.resolve("images/ramen/4.jpg"), dir.resolve("images/ramen/9.jpg")), val.files());
        assertArrayEquals(new int[]{0, 0, 1, 1}, val.labels());
        Set<Path> trained = new HashSet<>(trainSplit.files());
        assertTrue(val.files().stream().noneMatch(trained::contains), "validation is held out");
        assertEquals(List.of(dir.resolve("images/apple_pie/t.jpg"), dir.resolve("images/ramen/t.jpg")),
                ImageSources.detect(dir, "test").files());

        Files.writeString(dir.resolve("meta/test.json"), "{\"ramen\": \"ramen/t\"}");
        assertEquals(dir.resolve("meta/test.json") + ": key 'ramen' must list image ids, got STRING",
                error(() -> ImageSources.detect(dir, "test")));
    }

    @Test
    void gtsrbHoldsOutEveryFifthTrackAndReadsTheTestCsv(@TempDir Path dir) throws IOException {
        for (int c = 0; c < 3; c++) {
            Path folder = dir.resolve(String.format("GTSRB/Training/%05d", c));
            for (int track = 0; track < 5; track++) {
                for (int frame = 0; frame < 2; frame++) {
                    touch(folder.resolve(String.format("%05d_%05d.ppm", track, frame)));
                }
            }
            Files.writeString(folder.resolve(String.format("GT-%05d.csv", c)), "Filename;ClassId\n");
        }
        Path testImages = Files.createDirectories(dir.resolve("GTSRB/Final_Test/Images"));
        Files.write(testImages.resolve("00000.ppm"), ppm(3, 2, 255, 0, 0));
        Files.write(testImages.resolve("00001.ppm"), ppm(3, 2, 0, 0, 255));
        Files.writeString(dir.resolve("GT-final_test.csv"), "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n"
                + "00000.ppm;3;2;0;0;3;2;2\n00001.ppm;3;2;0;0;3;2;0\n");
        assertEquals(ImageSources.Layout.GTSRB_FILES, ImageSources.layout(dir));
        ImageList train = ImageSources.detect(dir, "train"), val = ImageSources.detect(dir, "val");
        assertEquals(List.of("00000", "00001", "00002"), train.classNames());
        assertEquals(3 * 4 * 2, train.size());
        assertEquals(3 * 2, val.size());
        assertTrue(val.files().stream().allMatch(f -> f.getFileName().toString().startsWith("00004_")),
                "a whole track is held out: " + val.files());
        ImageList test = ImageSources.detect(dir, "test");
        assertArrayEquals(new int[]{2, 0}, test.labels());

        // The PPMs decode: red then blue, RGB order, in [0, 1].
        StreamedImages images = StreamedImages.open(dir, "test", ImagePreprocessing.vtab1k().forInput(3, 2, 3), true);
        INDArray pixels = images.batch(new int[]{0, 1}).images();
        assertEquals(1.0, pixels.getDouble(0, 0, 0, 0) * 0.5 + 0.5, 1e-6, "red, normalised by 0.5");
        assertEquals(1.0, pixels.getDouble(1, 2, 1, 2) * 0.5 + 0.5, 1e-6, "blue");
        assertEquals(0.0, pixels.getDouble(1, 0, 1, 2) * 0.5 + 0.5, 1e-6);

        Files.writeString(dir.resolve("GT-final_test.csv"), "Filename;ClassId\n00000.ppm;43\n");
        assertEquals(dir.resolve("GT-final_test.csv") + ":2: expected a ClassId in [0, 3) (the training folders' "
                + "classes), got '00000.ppm;43'", error(() -> ImageSources.detect(dir, "test")));
        Files.writeString(dir.resolve("GT-final_test.csv"), "Filename,ClassId\n");
        assertEquals(dir.resolve("GT-final_test.csv") + ": the header must name the columns Filename and ClassId, "
                + "got 'Filename,ClassId'", error(() -> ImageSources.detect(dir, "test")));
    }
}
