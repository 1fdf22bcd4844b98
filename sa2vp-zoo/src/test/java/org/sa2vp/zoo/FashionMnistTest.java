package org.sa2vp.zoo;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.sa2vp.data.FashionMnist;
import org.sa2vp.data.IdxImages;
import org.sa2vp.data.ImageTransforms;
import org.sa2vp.data.InMemoryImages;
import org.sa2vp.data.MissingDatasetException;
import org.sa2vp.data.RotationTask;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The IDX reader on the published Fashion-MNIST files (the bundled {@link FashionMnistSample}: their first 4,000
 * training and 5,000 test images), on small hand-made IDX files, and the image transforms. Expected counts, labels
 * and pixel values were read independently with numpy from Debian's {@code dataset-fashion-mnist}.
 */
class FashionMnistTest {

    private static InMemoryImages train;
    private static InMemoryImages test;

    @BeforeAll
    static void load() {
        train = FashionMnistSample.load(FashionMnist.Split.TRAIN);
        test = FashionMnistSample.load(FashionMnist.Split.TEST);
    }

    @Test
    void readsBothSplitsWithTheirClassCounts() {
        assertArrayEquals(new long[]{FashionMnistSample.TRAIN_IMAGES, 1, 28, 28}, train.images().shape());
        assertArrayEquals(new long[]{FashionMnistSample.TEST_IMAGES, 1, 28, 28}, test.images().shape());
        assertEquals(DataType.FLOAT, train.images().dataType());
        assertArrayEquals(new int[]{373, 440, 404, 409, 395, 391, 400, 413, 380, 395}, train.classCounts());
        assertArrayEquals(new int[]{507, 481, 521, 500, 521, 485, 482, 500, 526, 477}, test.classCounts());
    }

    @Test
    void labelsAndPixelsAreThePublishedOnes() {
        assertArrayEquals(new int[]{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}, Arrays.copyOf(train.labels(), 10));
        assertArrayEquals(new int[]{9, 2, 1, 1, 6, 1, 4, 6, 5, 7}, Arrays.copyOf(test.labels(), 10));
        assertEquals(0.0, train.images().minNumber().doubleValue());
        assertEquals(1.0, train.images().maxNumber().doubleValue());
        // Mean pixel of the sample's test images (numpy: 0.287196); summed in double, float32 drifts over 3.9M values.
        assertEquals(0.287196, test.images().castTo(DataType.DOUBLE).meanNumber().doubleValue(), 1e-5);
        // Sum of the first training image's bytes (76247) and a row excerpt, read independently with numpy.
        INDArray first = train.images().get(NDArrayIndex.point(0));
        assertEquals(76247 / 255.0, first.sumNumber().doubleValue(), 1e-2);
        float[] row = first.get(NDArrayIndex.point(0),
                NDArrayIndex.point(10),
                NDArrayIndex.interval(10, 16)).toFloatVector();
        assertArrayEquals(new float[]{0, 0, 0, 193 / 255f, 228 / 255f, 218 / 255f}, row, 1e-6f);
    }

    @Test
    void readsPlainAndGzippedIdxAlike(@TempDir Path dir) throws IOException {
        byte[] images = idx(new int[]{2, 2, 3}, new byte[]{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, (byte) 255});
        byte[] labels = idx(new int[]{2}, new byte[]{4, 1});
        Files.write(dir.resolve("train-images-idx3-ubyte"), images);
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(dir.resolve("train-labels-idx1-ubyte.gz")))) {
            out.write(labels);
        }
        InMemoryImages split = FashionMnist.load(dir, FashionMnist.Split.TRAIN);
        assertArrayEquals(new long[]{2, 1, 2, 3}, split.images().shape());
        assertArrayEquals(new int[]{4, 1}, split.labels());
        assertEquals(10 / 255f, split.images().getFloat(1, 0, 1, 1), 1e-7f);
        assertEquals(1f, split.images().getFloat(1, 0, 1, 2), 1e-7f);
    }

    @Test
    void rejectsTruncatedAndForeignFiles(@TempDir Path dir) throws IOException {
        Path truncated = dir.resolve("short");
        Files.write(truncated, Arrays.copyOf(idx(new int[]{2, 2, 2}, new byte[8]), 20));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> IdxImages.readImages(truncated)).getMessage()
                .contains("truncated"));
        Path labelsAsImages = dir.resolve("labels");
        Files.write(labelsAsImages, idx(new int[]{3}, new byte[3]));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> IdxImages.readImages(labelsAsImages))
                .getMessage().contains("rank 3"));
    }

    @Test
    void missingFilesSayHowToInstallThem(@TempDir Path dir) {
        String message = assertThrows(MissingDatasetException.class,
                () -> FashionMnist.load(dir, FashionMnist.Split.TEST)).getMessage();
        assertTrue(message.contains("t10k-images-idx3-ubyte.gz not found"), message);
        assertTrue(message.contains("apt-get install dataset-fashion-mnist"), message);
        assertTrue(!message.contains("\n"), "one line: " + message);
    }

    @Test
    void transformsBringFashionMnistToAThreeChannelVitInput() {
        InMemoryImages few = test.slice(0, 4);
        INDArray padded = ImageTransforms.pad(few.images(), 32, 32, 0);
        assertArrayEquals(new long[]{4, 1, 32, 32}, padded.shape());
        assertEquals(few.images().sumNumber().doubleValue(), padded.sumNumber().doubleValue(), 1e-3);
        assertEquals(few.images().getFloat(2, 0, 10, 13), padded.getFloat(2, 0, 12, 15));
        INDArray rgb = ImageTransforms.normalize(ImageTransforms.repeatChannels(padded, 3), 0.5, 0.5);
        assertArrayEquals(new long[]{4, 3, 32, 32}, rgb.shape());
        assertEquals(-1.0, rgb.minNumber().doubleValue(), 1e-6);
        assertTrue(rgb.maxNumber().doubleValue() <= 1.0);
        assertEquals(rgb.getFloat(1, 0, 16, 16), rgb.getFloat(1, 2, 16, 16));

        // Upsampling by 2 with half-pixel centres: a constant stays constant, interior pixels interpolate.
        INDArray ramp = Nd4j.create(new float[]{0, 1, 2, 3}, new long[]{1, 1, 2, 2}, DataType.FLOAT);
        INDArray big = ImageTransforms.resizeBilinear(ramp, 4, 4);
        assertArrayEquals(new float[]{0, 0.25f, 0.75f, 1}, big.get(NDArrayIndex.point(0),
                NDArrayIndex.point(0), NDArrayIndex.point(0))
                .toFloatVector(), 1e-6f);
        assertEquals(1.5, ImageTransforms.resizeBilinear(ramp, 3, 3).getDouble(0, 0, 1, 1), 1e-6);
    }

    @Test
    void rotationTaskTurnsImagesAndLabelsThemBalanced() {
        INDArray square = Nd4j.create(new float[]{1, 2, 3, 4}, new long[]{1, 1, 2, 2}, DataType.FLOAT);
        INDArray counterClockwise = ImageTransforms.rotate90(square, new int[]{1});
        assertArrayEquals(new float[]{2, 4, 1, 3}, counterClockwise.reshape(4).toFloatVector());
        INDArray half = ImageTransforms.rotate90(square, new int[]{2});
        assertArrayEquals(new float[]{4, 3, 2, 1}, half.reshape(4).toFloatVector());
        assertEquals(square, ImageTransforms.rotate90(counterClockwise, new int[]{3}));

        InMemoryImages rotated = RotationTask.of(test.slice(0, 102), 7);
        assertArrayEquals(new int[]{26, 26, 25, 25}, rotated.classCounts());
        assertArrayEquals(rotated.labels(), RotationTask.of(test.slice(0, 102), 7).labels());
        for (int i = 0; i < 5; i++) {
            INDArray original = test.images().get(NDArrayIndex.interval(i, i + 1));
            assertEquals(ImageTransforms.rotate90(original, new int[]{rotated.labels()[i]}),
                    rotated.images().get(NDArrayIndex.interval(i, i + 1)));
        }
    }

    private static byte[] idx(int[] shape, byte[] values) {
        ByteBuffer buffer = ByteBuffer.allocate(4 + 4 * shape.length + values.length);
        buffer.putInt(0x0800 | shape.length);
        for (int size : shape) {
            buffer.putInt(size);
        }
        buffer.put(values);
        return buffer.array();
    }
}
