package org.sa2vp.train;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/** Images {@code [N, C, H, W]} and labels held in memory (e.g. read from {@code .npy} files). */
public final class InMemoryImages implements LabelledImages {

    private final INDArray flat;
    private final long[] imageShape;
    private final int[] labels;

    /**
     * @param images [N, C, H, W]
     * @param labels N class indices ≥ 0
     */
    public InMemoryImages(INDArray images, int[] labels) {
        if (images.rank() != 4) {
            throw new IllegalArgumentException("images must be [N, C, H, W], got shape "
                    + Arrays.toString(images.shape()));
        }
        if (images.size(0) != labels.length) {
            throw new IllegalArgumentException(images.size(0) + " images but " + labels.length + " labels");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0) {
                throw new IllegalArgumentException("label " + i + " is " + labels[i] + ", expected a class index >= 0");
            }
        }
        this.imageShape = Arrays.copyOfRange(images.shape(), 1, 4);
        this.flat = images.dup('c').reshape('c', images.size(0), imageShape[0] * imageShape[1] * imageShape[2]);
        this.labels = labels.clone();
    }

    /** Class indices from a float or integer vector holding whole numbers ≥ 0 (e.g. a labels {@code .npy}). */
    public static int[] labelsOf(INDArray values, String source) {
        if (values.rank() > 2 || (values.rank() == 2 && Math.min(values.size(0), values.size(1)) != 1)) {
            throw new IllegalArgumentException(source + ": labels must be a vector, got shape "
                    + Arrays.toString(values.shape()));
        }
        double[] raw = values.castTo(DataType.DOUBLE).reshape(values.length()).toDoubleVector();
        int[] out = new int[raw.length];
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] < 0 || raw[i] != Math.rint(raw[i]) || raw[i] > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(source + ": label " + i + " is " + raw[i]
                        + ", expected a whole number >= 0");
            }
            out[i] = (int) raw[i];
        }
        return out;
    }

    @Override
    public int size() {
        return labels.length;
    }

    /** {@code [C, H, W]} of every image. */
    public long[] imageShape() {
        return imageShape.clone();
    }

    /** A copy of all labels. */
    public int[] labels() {
        return labels.clone();
    }

    @Override
    public Batch batch(int[] indices) {
        int[] batchLabels = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            if (indices[i] < 0 || indices[i] >= labels.length) {
                throw new IndexOutOfBoundsException("image " + indices[i] + " of " + labels.length);
            }
            batchLabels[i] = labels[indices[i]];
        }
        INDArray rows = Nd4j.pullRows(flat, 1, indices);
        return new Batch(rows.reshape('c', indices.length, imageShape[0], imageShape[1], imageShape[2]), batchLabels);
    }
}
