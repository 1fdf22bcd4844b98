package org.sa2vp.data;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;

/**
 * An image classification split held in memory: images {@code [N, C, H, W]} (NCHW, float32) and one integer
 * class per image. Subsets are copies, so a split can be cut into train and test parts that never alias.
 *
 * @param images     {@code [N, C, H, W]}
 * @param labels     class indices in {@code [0, numClasses)}, length N
 * @param numClasses number of classes of the task (also those absent from this split)
 */
public record ImageSet(INDArray images, int[] labels, int numClasses) {

    public ImageSet {
        if (images.rank() != 4) {
            throw new IllegalArgumentException("images must be [N, C, H, W], got " + Arrays.toString(images.shape()));
        }
        if (images.size(0) != labels.length) {
            throw new IllegalArgumentException(images.size(0) + " images but " + labels.length + " labels");
        }
        for (int label : labels) {
            if (label < 0 || label >= numClasses) {
                throw new IllegalArgumentException("label " + label + " outside [0, " + numClasses + ")");
            }
        }
    }

    public int size() {
        return labels.length;
    }

    /** Images {@code from … from+count-1}, copied. */
    public ImageSet slice(int from, int count) {
        if (from < 0 || count < 0 || from + count > size()) {
            throw new IllegalArgumentException("slice [" + from + ", " + (from + count) + ") outside [0, " + size()
                    + ")");
        }
        INDArray part = images.get(NDArrayIndex.interval(from, from + count), NDArrayIndex.all(), NDArrayIndex.all(),
                NDArrayIndex.all()).dup('c');
        return new ImageSet(part, Arrays.copyOfRange(labels, from, from + count), numClasses);
    }

    /** The same labels with other images of the same count (the result of a transform). */
    public ImageSet withImages(INDArray transformed) {
        return new ImageSet(transformed, labels, numClasses);
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
}
