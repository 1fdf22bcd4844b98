package org.sa2vp.data;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;

/**
 * An image classification split held in memory: images {@code [N, C, H, W]} (NCHW, float as given) and one class
 * index per image, plus the task's class count (which may exceed the labels present in this split). Read from
 * {@code .npy} files, IDX files, VTAB-1k list files or image folders. Subsets are copies, so a split can be cut into
 * train and test parts that never alias.
 */
public final class InMemoryImages implements LabelledImages {

    private final INDArray flat;
    private final long[] imageShape;
    private final int[] labels;
    private final int numClasses;

    /**
     * A split whose class count is its largest label + 1 (0 when empty).
     *
     * @param images [N, C, H, W]
     * @param labels N class indices ≥ 0
     */
    public InMemoryImages(INDArray images, int[] labels) {
        this(images, labels, Arrays.stream(labels).max().orElse(-1) + 1);
    }

    /**
     * @param images     [N, C, H, W]
     * @param labels     N class indices in {@code [0, numClasses)}
     * @param numClasses number of classes of the task (also those absent from this split)
     */
    public InMemoryImages(INDArray images, int[] labels, int numClasses) {
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
            if (labels[i] >= numClasses) {
                throw new IllegalArgumentException("label " + i + " is " + labels[i] + ", outside the " + numClasses
                        + " classes [0, " + numClasses + ")");
            }
        }
        this.numClasses = numClasses;
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

    /**
     * Index of the first image (along dimension 0) of {@code images} holding NaN or infinity, −1 if none: one
     * summation when every value is finite, a scan of the images only when it is not.
     */
    public static int firstNonFinite(INDArray images) {
        if (Double.isFinite(images.sumNumber().doubleValue())) {
            return -1;
        }
        for (int i = 0; i < images.size(0); i++) {
            for (float v : images.slice(i).castTo(DataType.FLOAT).dup('c').data().asFloat()) {
                if (!Float.isFinite(v)) {
                    return i;
                }
            }
        }
        return -1;
    }

    /** A copy of all labels. */
    @Override
    public int[] labels() {
        return labels.clone();
    }

    /** Number of classes of the task; every label is below it. */
    public int numClasses() {
        return numClasses;
    }

    /** All images {@code [N, C, H, W]}: a view of the held array, to read, not to modify. */
    public INDArray images() {
        return flat.reshape('c', labels.length, imageShape[0], imageShape[1], imageShape[2]);
    }

    /** Images {@code from … from+count-1}, copied. */
    public InMemoryImages slice(int from, int count) {
        if (from < 0 || count < 0 || from + count > size()) {
            throw new IllegalArgumentException("slice [" + from + ", " + (from + count) + ") outside [0, " + size()
                    + ")");
        }
        INDArray part = images().get(NDArrayIndex.interval(from, from + count), NDArrayIndex.all(),
                NDArrayIndex.all(), NDArrayIndex.all());
        return new InMemoryImages(part, Arrays.copyOfRange(labels, from, from + count), numClasses);
    }

    /** The images at {@code indices} (any order, repeats allowed), copied; the class count is kept. */
    public InMemoryImages subset(int[] indices) {
        Batch rows = batch(indices);
        return new InMemoryImages(rows.images(), rows.labels(), numClasses);
    }

    /** The same labels and class count with other images of the same count (the result of a transform). */
    public InMemoryImages withImages(INDArray transformed) {
        return new InMemoryImages(transformed, labels, numClasses);
    }

    /** One-hot labels {@code [N, numClasses]} (float32), as DL4J's softmax cross-entropy wants them. */
    public INDArray oneHot() {
        INDArray oneHot = Nd4j.zeros(DataType.FLOAT, size(), numClasses);
        for (int i = 0; i < size(); i++) {
            oneHot.putScalar(i, labels[i], 1.0);
        }
        return oneHot;
    }

    /** How many images each class has, {@code [numClasses]}. */
    public int[] classCounts() {
        int[] counts = new int[numClasses];
        for (int label : labels) {
            counts[label]++;
        }
        return counts;
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
