package org.sa2vp.data;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.File;
import java.net.URISyntaxException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The named image transforms against PyTorch fixtures ({@code tools/reference/make_image_fixtures.py}). */
class ImageTransformsTest {

    static INDArray fixture(String name) {
        return Nd4j.createFromNpyFile(fixtureFile(name + ".npy").toFile()).castTo(DataType.FLOAT);
    }

    static Path fixtureFile(String name) {
        try {
            return Path.of(ImageTransformsTest.class.getResource("/fixtures/images/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static double maxDifference(INDArray a, INDArray b) {
        assertArrayEquals(b.shape(), a.shape());
        return a.sub(b).amaxNumber().doubleValue();
    }

    @Test
    void bilinearMatchesPyTorchWithAndWithoutAntialiasing() {
        INDArray input = fixture("resize_input");
        for (String name : new String[]{"down", "up", "mixed"}) {
            INDArray antialiased = fixture("resize_" + name + "_aa");
            INDArray plain = fixture("resize_" + name + "_plain");
            int h = (int) plain.size(2), w = (int) plain.size(3);
            double aa = maxDifference(ImageTransforms.resizeBilinearAntialiased(input, h, w), antialiased);
            double noAa = maxDifference(ImageTransforms.resizeBilinear(input, h, w), plain);
            assertTrue(aa < 1e-6, name + " antialiased: " + aa);
            assertTrue(noAa < 1e-6, name + " plain: " + noAa);
        }
        // Shrinking 7×9 → 3×4 is where the two conventions part: antialiasing averages over more source pixels.
        assertTrue(maxDifference(fixture("resize_down_aa"), fixture("resize_down_plain")) > 0.1);
    }

    @Test
    void cropsFlipsAndNormalisesAsTorchvision() {
        INDArray ramp = Nd4j.arange(0, 2 * 5 * 6).castTo(DataType.FLOAT).reshape(1, 2, 5, 6);
        // CenterCrop 2×3 of 5×6: top round(1.5) = 2 (half to even), left round(1.5) = 2.
        INDArray centre = ImageTransforms.centerCrop(ramp, 2, 3);
        assertArrayEquals(new float[]{14, 15, 16, 20, 21, 22}, centre.slice(0).slice(0).reshape(6).toFloatVector());
        // CenterCrop 3×3 of 5×6: top round(1.0) = 1, left round(1.5) = 2.
        assertEquals(8f, ImageTransforms.centerCrop(ramp, 3, 3).getFloat(0, 0, 0, 0));
        // 1×2 of 5×6: top round(2.0) = 2, left round(2.0) = 2.
        assertEquals(14f, ImageTransforms.centerCrop(ramp, 1, 2).getFloat(0, 0, 0, 0));
        assertEquals(30 + 6 * 3 + 4, ImageTransforms.crop(ramp, 3, 4, 2, 2).getFloat(0, 1, 0, 0));
        String outside = assertThrows(IllegalArgumentException.class,
                () -> ImageTransforms.crop(ramp, 4, 0, 2, 2)).getMessage();
        assertEquals("crop 2×2 at (4, 0) outside the 5×6 image", outside);

        INDArray flipped = ImageTransforms.flipHorizontal(ramp);
        assertArrayEquals(new float[]{5, 4, 3, 2, 1, 0}, flipped.slice(0).slice(0).slice(0).toFloatVector());
        assertEquals(ramp, ImageTransforms.flipHorizontal(flipped));

        INDArray normalised = ImageTransforms.normalize(ramp, new double[]{1, 30}, new double[]{2, 0.5});
        assertEquals((0 - 1) / 2f, normalised.getFloat(0, 0, 0, 0));
        assertEquals((59 - 30) / 0.5f, normalised.getFloat(0, 1, 4, 5));
        assertArrayEquals(new int[]{256, 341}, ImageTransforms.shorterSideSize(300, 400, 256));
        assertArrayEquals(new int[]{384, 256}, ImageTransforms.shorterSideSize(300, 200, 256));
    }
}
