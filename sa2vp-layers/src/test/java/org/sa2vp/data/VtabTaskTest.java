package org.sa2vp.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The VTAB-1k list-file reader, the class-per-folder reader and the stratified split on tiny hand-made folders. */
class VtabTaskTest {

    @Test
    void readsATinyVtabFolderWithConversionAndResize(@TempDir Path dir) throws IOException {
        Files.createDirectories(dir.resolve("images"));
        // A 2×2 grey ramp 0, 85 / 170, 255 and a 2×2 RGB image, half of it transparent.
        grey(dir.resolve("images/a.png"), new int[]{0, 85, 170, 255});
        BufferedImage rgba = new BufferedImage(2, 2, BufferedImage.TYPE_INT_ARGB);
        rgba.setRGB(0, 0, 0xFFFF0000);
        rgba.setRGB(1, 0, 0xFF00FF00);
        rgba.setRGB(0, 1, 0x000000FF);
        rgba.setRGB(1, 1, 0x800000FF);
        ImageIO.write(rgba, "png", dir.resolve("images/b.png").toFile());
        Files.writeString(dir.resolve("train800.txt"), "images/a.png 0\nimages/b.png 4\n\n");
        Files.writeString(dir.resolve("test.txt"), "images/b.png 1\n");

        VtabTask task = VtabTask.open(dir);
        assertEquals(5, task.numClasses(), "largest label of all list files + 1");
        assertTrue(task.has(VtabSplit.TRAIN800));
        assertFalse(task.has(VtabSplit.VAL200));

        InMemoryImages native1 = task.split(VtabSplit.TRAIN800, 1, 2);
        assertArrayEquals(new long[]{2, 1, 2, 2}, native1.images().shape());
        assertArrayEquals(new int[]{0, 4}, native1.labels());
        assertEquals(5, native1.numClasses());
        assertArrayEquals(new float[]{0, 85 / 255f, 170 / 255f, 1}, native1.images().slice(0).reshape(4)
                .toFloatVector(), 1e-6f);
        // Luminance of red and green; transparent blue is white; half-transparent blue is halfway to white.
        float alpha = 128 / 255f;
        float expectedHalf = 0.299f * (1 - alpha) + 0.587f * (1 - alpha) + 0.114f;
        assertArrayEquals(new float[]{0.299f, 0.587f, 1, expectedHalf}, native1.images().slice(1).reshape(4)
                .toFloatVector(), 1e-5f);

        // Grey → RGB copies the channel; 2×2 → 4×4 bilinear, half-pixel centres (PyTorch align_corners=False).
        InMemoryImages big = task.split(VtabSplit.TRAIN800, 3, 4);
        assertArrayEquals(new long[]{2, 3, 4, 4}, big.images().shape());
        float a = 85 / 255f, b = 170 / 255f;
        float[] firstRow = {0, 0.25f * a, 0.75f * a, a};
        assertArrayEquals(firstRow, big.images().get(NDArrayIndex.point(0),
                NDArrayIndex.point(2), NDArrayIndex.point(0))
                .toFloatVector(), 1e-6f);
        // (1, 1) samples source position (0.25, 0.25): weights 0.75² on 0, 0.75·0.25 on a and b, 0.25² on 1.
        assertEquals(0.1875f * a + 0.1875f * b + 0.0625f, big.images().getFloat(0, 1, 1, 1), 1e-6f);
        InMemoryImages rgb = task.split(VtabSplit.TEST, 3, 2, 2);
        assertArrayEquals(new float[]{1, 0, 1, 1 - alpha}, rgb.images().slice(0).slice(0)
                .reshape(4).toFloatVector(), 1e-5f);
    }

    @Test
    void errorsNameTheFileAndLine(@TempDir Path dir) throws IOException {
        String none = assertThrows(IllegalArgumentException.class, () -> VtabTask.open(dir)).getMessage();
        assertTrue(none.contains("no VTAB-1k list file") && none.contains(dir.toString()), none);

        Files.writeString(dir.resolve("val200.txt"), "images/x.png 0\n");
        String missingImage = assertThrows(IllegalArgumentException.class, () -> VtabTask.open(dir)).getMessage();
        assertTrue(missingImage.contains(dir.resolve("images/x.png").toString())
                && missingImage.contains("val200.txt:1"), missingImage);

        Files.createDirectories(dir.resolve("images"));
        grey(dir.resolve("images/x.png"), new int[]{0, 0, 0, 0});
        Files.writeString(dir.resolve("test.txt"), "images/x.png 1\nimages/x.png two\n");
        String badLine = assertThrows(IllegalArgumentException.class, () -> VtabTask.open(dir)).getMessage();
        assertTrue(badLine.contains(dir.resolve("test.txt") + ":2") && badLine.contains("images/x.png two"), badLine);

        Files.writeString(dir.resolve("test.txt"), "images/x.png 1\n");
        VtabTask task = VtabTask.open(dir);
        String missingList = assertThrows(IllegalArgumentException.class,
                () -> task.split(VtabSplit.TRAIN800, 1, 2)).getMessage();
        assertTrue(missingList.contains(dir.resolve("train800.txt").toString()), missingList);
        for (String message : List.of(none, missingImage, badLine, missingList)) {
            assertFalse(message.contains("\n"), "one line: " + message);
        }
    }

    @Test
    void imageFolderUsesSortedSubfoldersAsClasses(@TempDir Path dir) throws IOException {
        for (String name : List.of("zebra/1.png", "zebra/2.png", "ant/nested/1.png", "ant/0.png", "cat/0.png",
                "cat/1.png", "cat/2.png")) {
            Files.createDirectories(dir.resolve(name).getParent());
            int value = name.length() * 10;
            grey(dir.resolve(name), new int[]{value, value, value, value});
        }
        Files.writeString(dir.resolve("cat/notes.txt"), "not an image");
        Files.writeString(dir.resolve("README"), "ignored");
        ImageFolder folder = ImageFolder.read(dir, 1, 3);
        assertEquals(List.of("ant", "cat", "zebra"), folder.classNames());
        assertArrayEquals(new int[]{0, 0, 1, 1, 1, 2, 2}, folder.images().labels());
        assertArrayEquals(new long[]{7, 1, 3, 3}, folder.images().images().shape());
        assertEquals("ant/0.png".length() * 10 / 255f, folder.images().images().getFloat(0, 0, 1, 1), 1e-6f);
        assertEquals("ant/nested/1.png".length() * 10 / 255f, folder.images().images().getFloat(1, 0, 2, 2), 1e-6f);

        Files.createDirectories(dir.resolve("empty"));
        String empty = assertThrows(IllegalArgumentException.class, () -> ImageFolder.read(dir, 1, 3)).getMessage();
        assertTrue(empty.contains(dir.resolve("empty").toString()), empty);
    }

    @Test
    void stratifiedSplitIsDeterministicAndKeepsProportions() {
        int[] labels = new int[100];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = i < 60 ? 0 : i < 90 ? 1 : 2;
        }
        float[] values = new float[100];
        for (int i = 0; i < values.length; i++) {
            values[i] = i;
        }
        InMemoryImages all = new InMemoryImages(Nd4j.create(values, new long[]{100, 1, 1, 1},
                DataType.FLOAT), labels);
        StratifiedSplit split = StratifiedSplit.of(all, 0.5, 0.2, 7);
        assertArrayEquals(new int[]{30, 15, 5}, split.train().classCounts());
        assertArrayEquals(new int[]{12, 6, 2}, split.validation().classCounts());
        assertArrayEquals(new int[]{18, 9, 3}, split.test().classCounts());
        StratifiedSplit again = StratifiedSplit.of(all, 0.5, 0.2, 7);
        assertEquals(split.train().images(), again.train().images());
        float[] seen = new float[100];
        for (InMemoryImages part : List.of(split.train(), split.validation(), split.test())) {
            for (float v : part.images().reshape(part.size()).toFloatVector()) {
                seen[(int) v]++;
            }
        }
        float[] once = new float[100];
        Arrays.fill(once, 1);
        assertArrayEquals(once, seen, "every image in exactly one part");
        assertEquals(0, StratifiedSplit.of(all, 1, 0, 7).validation().size());
    }

    private static void grey(Path file, int[] values) throws IOException {
        BufferedImage image = new BufferedImage(2, 2, BufferedImage.TYPE_BYTE_GRAY);
        image.getRaster().setSamples(0, 0, 2, 2, 0, values);
        ImageIO.write(image, "png", file.toFile());
    }
}
