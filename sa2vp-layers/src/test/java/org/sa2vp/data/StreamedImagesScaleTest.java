package org.sa2vp.data;

import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * More images than the old readers' {@code new float[count * imageLength]} could hold at 3×224×224 (int overflow
 * above 14,266): 14,300 tiny PNGs on disk streamed as 224×224 batches, with memory that does not grow with the set.
 */
class StreamedImagesScaleTest {

    private static final int IMAGES = 14_300;
    private static final int TEMPLATES = 16;

    @Test
    void streamsMoreImagesThanAnIntIndexedArrayHolds(@TempDir Path dir) throws IOException {
        byte[][] templates = new byte[TEMPLATES][];
        for (int t = 0; t < TEMPLATES; t++) {
            BufferedImage image = new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB);
            for (int p = 0; p < 16; p++) {
                image.setRGB(p % 4, p / 4, (t * 16 << 16) | (p * 16 << 8) | 255 - t * 16);
            }
            ByteArrayOutputStream png = new ByteArrayOutputStream();
            ImageIO.write(image, "png", png);
            templates[t] = png.toByteArray();
        }
        for (String className : new String[]{"a", "b"}) {
            Files.createDirectories(dir.resolve("train").resolve(className));
        }
        for (int i = 0; i < IMAGES; i++) {
            // Image i is template i % 16; even templates in class a, odd in b.
            Files.write(dir.resolve("train").resolve(i % 2 == 0 ? "a" : "b").resolve(String.format("%05d.png", i)),
                    templates[i % TEMPLATES]);
        }
        long heapBefore = usedHeapAfterGc();
        long residentBefore = Pointer.physicalBytes();

        StreamedImages set = StreamedImages.open(dir, "train", ImagePreprocessing.vtab1k(), true);
        assertEquals(IMAGES, set.size());
        long decodedBytes = (long) IMAGES * 3 * 224 * 224 * Float.BYTES;
        assertTrue((long) IMAGES * 3 * 224 * 224 > Integer.MAX_VALUE, "beyond the old int bound");

        // Sorted per class: index 7149 is the last of class a (file 14298), the last index is file 14299 of b.
        int last = IMAGES - 1;
        LabelledImages.Batch tail = set.batch(new int[]{last, 7149, 0}, 0);
        assertArrayEquals(new long[]{3, 3, 224, 224}, tail.images().shape());
        assertArrayEquals(new int[]{1, 0, 0}, tail.labels());
        // The 4×4 → 224×224 stretch keeps a constant top-left block: file 14299 is template 11, whose (0, 0) pixel
        // has red 176 and blue 79, normalised (x / 255 − 0.5) / 0.5.
        INDArray lastImage = tail.images().slice(0);
        assertEquals(176 / 127.5f - 1, lastImage.getFloat(0, 0, 0), 1e-6f);
        assertEquals(79 / 127.5f - 1, lastImage.getFloat(2, 0, 0), 1e-6f);
        long residentGrowth = 0;
        for (int b = 0; b < 3; b++) {
            int[] indices = new int[8];
            for (int i = 0; i < indices.length; i++) {
                indices[i] = (b * 4_099 + i * 1_789) % IMAGES;
            }
            assertArrayEquals(new long[]{8, 3, 224, 224}, set.batch(indices, b).images().shape());
            residentGrowth = Math.max(residentGrowth, Pointer.physicalBytes() - residentBefore);
        }
        long heapRetained = usedHeapAfterGc() - heapBefore;
        long batchBytes = 8L * 3 * 224 * 224 * Float.BYTES;
        System.out.printf("%d images (%.1f GB if decoded at once): heap retained by the set %.1f MB, resident "
                        + "memory growth while reading batches of 8 (%.1f MB each) at most %.1f MB%n", IMAGES,
                decodedBytes / 1e9, heapRetained / 1e6, batchBytes / 1e6, residentGrowth / 1e6);
        assertTrue(heapRetained < 16_000_000L, "heap holds paths and labels only: " + heapRetained);
        // Process RSS (heap and native) is noisy, hence a wide bound, still 1/10 of the decoded set.
        assertTrue(residentGrowth < decodedBytes / 10, "memory is a few batches, not the set: " + residentGrowth);
        assertEquals(IMAGES, set.size(), "the set is still alive when measured");
    }

    private static long usedHeapAfterGc() {
        Runtime runtime = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return runtime.totalMemory() - runtime.freeMemory();
    }
}
