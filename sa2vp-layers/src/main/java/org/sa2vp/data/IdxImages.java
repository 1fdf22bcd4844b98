package org.sa2vp.data;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reader of the IDX files in which MNIST, Fashion-MNIST, KMNIST and EMNIST are distributed, gzipped or not
 * (recognised by the gzip magic, not the name). The format: a 4-byte magic {@code 0x00 0x00 type rank}, then
 * {@code rank} big-endian 32-bit sizes, then the values in row-major order. Only unsigned bytes ({@code type 0x08})
 * occur in these datasets and only they are read.
 */
public final class IdxImages {

    private static final int UNSIGNED_BYTE = 0x08;

    private IdxImages() {
    }

    /** An images file ({@code rank 3: [N, H, W]}) as float32 {@code [N, 1, H, W]}, pixels scaled to [0, 1]. */
    public static INDArray readImages(Path file) {
        Idx idx = read(file, 3);
        int n = idx.shape[0], h = idx.shape[1], w = idx.shape[2];
        float[] pixels = new float[idx.values.length];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (idx.values[i] & 0xFF) / 255f;
        }
        return Nd4j.create(pixels, new long[]{n, 1, h, w}, DataType.FLOAT);
    }

    /** A labels file ({@code rank 1: [N]}) as class indices. */
    public static int[] readLabels(Path file) {
        Idx idx = read(file, 1);
        int[] labels = new int[idx.values.length];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = idx.values[i] & 0xFF;
        }
        return labels;
    }

    /** An images file and its labels file as one split of a task with {@code numClasses} classes. */
    public static InMemoryImages read(Path images, Path labels, int numClasses) {
        INDArray pixels = readImages(images);
        int[] classes = readLabels(labels);
        if (pixels.size(0) != classes.length) {
            throw new IllegalArgumentException(images + " holds " + pixels.size(0) + " images but " + labels
                    + " holds " + classes.length + " labels");
        }
        return new InMemoryImages(pixels, classes, numClasses);
    }

    private record Idx(int[] shape, byte[] values) {
    }

    private static Idx read(Path file, int expectedRank) {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file))) {
            raw.mark(2);
            boolean gzipped = raw.read() == 0x1f && raw.read() == 0x8b;
            raw.reset();
            try (DataInputStream in = new DataInputStream(gzipped ? new GZIPInputStream(raw, 1 << 16) : raw)) {
                int magic = in.readInt();
                int type = (magic >>> 8) & 0xFF, rank = magic & 0xFF;
                if ((magic >>> 16) != 0 || type != UNSIGNED_BYTE || rank != expectedRank) {
                    throw new IllegalArgumentException(file + ": not an IDX file of unsigned bytes with rank "
                            + expectedRank + " (magic 0x" + String.format("%08x", magic) + ")");
                }
                int[] shape = new int[rank];
                long count = 1;
                for (int i = 0; i < rank; i++) {
                    shape[i] = in.readInt();
                    count *= shape[i];
                }
                if (count > Integer.MAX_VALUE - 8) {
                    throw new IllegalArgumentException(file + ": " + count + " values do not fit in one array");
                }
                byte[] values = new byte[(int) count];
                in.readFully(values);
                return new Idx(shape, values);
            }
        } catch (EOFException e) {
            throw new IllegalArgumentException(file + ": truncated IDX file", e);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }
}
