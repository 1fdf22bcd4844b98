package org.sa2vp;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** How the tests compare arrays and make labels. */
public final class TestArrays {

    private TestArrays() {
    }

    /** Largest |a − b|, computed in float64. */
    public static double maxAbsDiff(INDArray a, INDArray b) {
        return a.castTo(DataType.DOUBLE).sub(b.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
    }

    /** max |a − b| / max |b|. */
    public static double maxRelDiff(INDArray a, INDArray b) {
        return maxAbsDiff(a, b) / b.castTo(DataType.DOUBLE).amaxNumber().doubleValue();
    }

    /** Labels {@code [n, classes]} of {@code type}: row i one-hot at {@code labels[i]}. */
    public static INDArray oneHot(DataType type, int classes, int... labels) {
        INDArray out = Nd4j.zeros(type, labels.length, classes);
        for (int i = 0; i < labels.length; i++) {
            out.putScalar(i, labels[i], 1.0);
        }
        return out;
    }
}
