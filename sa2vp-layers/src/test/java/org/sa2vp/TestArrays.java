package org.sa2vp;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How the tests compare arrays, switch ND4J to float64 and check a method's gradients. */
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

    /**
     * A float64 graph's gradients against central differences (ε 1e-6, relative error 1e-6, absolute 1e-10) for every
     * parameter but the {@code frozen} ones; then every {@code trainable} parameter has a non-zero gradient and every
     * frozen one that {@code exactlyFrozen} accepts exactly none.
     */
    public static void assertExactGradients(ComputationGraph g, INDArray images, INDArray[] labels,
                                            Set<String> trainable, Set<String> frozen,
                                            Predicate<String> exactlyFrozen) {
        assertTrue(GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig().net(g)
                .inputs(new INDArray[]{images}).labels(labels).epsilon(1e-6).maxRelError(1e-6)
                .minAbsoluteError(1e-10).excludeParams(frozen)));
        g.setInputs(images);
        g.setLabels(labels);
        g.computeGradientAndScore();
        Map<String, INDArray> grads = g.gradient().gradientForVariable();
        for (String p : frozen) {
            if (exactlyFrozen.test(p)) {
                assertEquals(0.0, grads.get(p).amaxNumber().doubleValue(), 0.0, "frozen " + p + " got a gradient");
            }
        }
        for (String p : trainable) {
            assertTrue(grads.get(p).amaxNumber().doubleValue() > 1e-8, p + " got no gradient");
        }
    }
}
