package org.sa2vp.layers.runtime;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Erf;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.sa2vp.layers.AdapterActivation;

/**
 * Element-wise activations with exact derivatives. GELU is the exact erf form used by the authors' code
 * ({@code sd.nn().gelu} in DL4J is the sigmoid approximation and {@code preciseGelu} is wrong, see the notes).
 */
public final class ActivationKernel {

    private static final double INV_SQRT2 = 1.0 / Math.sqrt(2.0);
    private static final double INV_SQRT_2PI = 1.0 / Math.sqrt(2.0 * Math.PI);

    private ActivationKernel() {
    }

    /** @param x pre-activation (kept by the caller for {@link #backward}) */
    public static INDArray forward(AdapterActivation activation, INDArray x) {
        switch (activation) {
            case GELU:
                INDArray cdf = erf(x.mul(INV_SQRT2)).addi(1.0).muli(0.5);
                return cdf.muli(x);
            case RELU:
                return Transforms.relu(x, true);
            default:
                throw new IllegalArgumentException("Unknown activation " + activation);
        }
    }

    /** @return dL/dx given dL/dy and the pre-activation x */
    public static INDArray backward(AdapterActivation activation, INDArray x, INDArray dy) {
        switch (activation) {
            case GELU:
                // d/dx [x Φ(x)] = Φ(x) + x φ(x)
                INDArray cdf = erf(x.mul(INV_SQRT2)).addi(1.0).muli(0.5);
                INDArray pdf = Transforms.exp(x.mul(x).muli(-0.5), false).muli(INV_SQRT_2PI);
                return cdf.addi(pdf.muli(x)).muli(dy);
            case RELU:
                return x.gt(0.0).castTo(dy.dataType()).muli(dy);
            default:
                throw new IllegalArgumentException("Unknown activation " + activation);
        }
    }

    private static INDArray erf(INDArray x) {
        return Nd4j.getExecutioner().exec(new Erf(x, x));
    }
}
