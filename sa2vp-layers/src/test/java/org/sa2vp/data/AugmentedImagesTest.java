package org.sa2vp.data;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Random shift + flip: pixel-exact, reproducible from (seed, epoch, image), and off for evaluation batches. */
class AugmentedImagesTest {

    /** 40 images [1, 6, 6] whose pixel (y, x) of image i is 100·i + 10·y + x (all distinct, no zeros). */
    private static InMemoryImages ramp() {
        int n = 40;
        INDArray images = Nd4j.create(DataType.FLOAT, n, 1, 6, 6);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 3;
            for (int y = 0; y < 6; y++) {
                for (int x = 0; x < 6; x++) {
                    images.putScalar(new long[]{i, 0, y, x}, 100 * i + 10 * y + x + 1);
                }
            }
        }
        return new InMemoryImages(images, labels);
    }

    @Test
    void everyAugmentedImageIsAShiftedOrMirroredCopyWithFill() {
        InMemoryImages source = ramp();
        AugmentedImages augmented = new AugmentedImages(source, 2, -7, true, 11);
        int[] indices = new int[source.size()];
        for (int i = 0; i < indices.length; i++) {
            indices[i] = i;
        }
        LabelledImages.Batch batch = augmented.batch(indices, 3);
        assertArrayEquals(source.labels(), batch.labels());
        Set<String> transforms = new HashSet<>();
        for (int i = 0; i < indices.length; i++) {
            String match = findTransform(batch.images().slice(i).slice(0), i);
            assertTrue(match != null, "image " + i + " is not a shift/flip of its source");
            transforms.add(match);
        }
        assertTrue(transforms.size() > 10, "only " + transforms.size() + " distinct transforms in 40 images");
        assertTrue(transforms.stream().anyMatch(t -> t.endsWith("flip")), "no image was flipped");
    }

    /** "dy,dx[,flip]" such that out(y, x) = src(y + dy, (flip ? 5 − x : x) + dx), or −7 outside; null if none. */
    private static String findTransform(INDArray out, int image) {
        for (int flip = 0; flip < 2; flip++) {
            for (int dy = -2; dy <= 2; dy++) {
                for (int dx = -2; dx <= 2; dx++) {
                    boolean ok = true;
                    for (int y = 0; y < 6 && ok; y++) {
                        for (int x = 0; x < 6 && ok; x++) {
                            int sy = y + dy, sx = (flip == 1 ? 5 - x : x) + dx;
                            double expected = sy < 0 || sy >= 6 || sx < 0 || sx >= 6 ? -7
                                    : 100 * image + 10 * sy + sx + 1;
                            ok = out.getDouble(y, x) == expected;
                        }
                    }
                    if (ok) {
                        return dy + "," + dx + (flip == 1 ? ",flip" : "");
                    }
                }
            }
        }
        return null;
    }

    @Test
    void theTransformDependsOnSeedEpochAndImageOnly() {
        InMemoryImages source = ramp();
        AugmentedImages a = new AugmentedImages(source, 2, 0, true, 5);
        AugmentedImages b = new AugmentedImages(source, 2, 0, true, 5);
        int[] order = {7, 3, 19};
        int[] single = {3};
        // The same image in another batch position, from another instance: the same pixels.
        assertEquals(a.batch(order, 2).images().slice(1), b.batch(single, 2).images().slice(0));
        assertNotEquals(a.batch(order, 2).images(), a.batch(order, 3).images(), "another epoch, other transforms");
        assertNotEquals(a.batch(order, 2).images(),
                new AugmentedImages(source, 2, 0, true, 6).batch(order, 2).images(), "another seed");
        // Evaluation batches are not augmented.
        assertEquals(source.batch(order).images(), a.batch(order).images());
    }
}
