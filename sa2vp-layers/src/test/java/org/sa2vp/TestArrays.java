package org.sa2vp;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** How the tests compare arrays and switch ND4J to float64. */
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

    /** Runs {@code check} with float64 as ND4J's default floating-point type, restoring the previous one after. */
    public static void inFloat64(Runnable check) {
        DataType previous = Nd4j.defaultFloatingPointType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        try {
            check.run();
        } finally {
            Nd4j.setDefaultDataTypes(previous, previous);
        }
    }
}
