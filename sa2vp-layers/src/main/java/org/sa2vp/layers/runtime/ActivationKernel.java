package org.sa2vp.layers.runtime;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Element-wise activations with exact derivatives. GELU is the exact erf form used by the authors' code,
 * {@code x·Φ(x)} with {@code Φ(x) = (1 + erf(x/√2))/2} ({@code sd.nn().gelu} in DL4J is the sigmoid approximation
 * and {@code preciseGelu} is wrong, see {@code docs/DL4J-NOTES.md} §5).
 *
 * <p>GELU runs as one fused pass ({@link ChunkedMap}) with {@link KernelMath#erf}, a rational approximation exact
 * to a few ulp in double: ND4J's own {@code erf} op took 35 ms per ViT-B MLP activation, more than the GEMM
 * before it.
 */
public final class ActivationKernel {

    private static final double INV_SQRT2 = 1.0 / Math.sqrt(2.0);
    private static final double INV_SQRT_2PI = 1.0 / Math.sqrt(2.0 * Math.PI);

    private ActivationKernel() {
    }

    /** @param x pre-activation (kept by the caller for {@link #backward}); @return a new array */
    public static INDArray forward(AdapterActivation activation, INDArray x) {
        return forward(activation, x, null);
    }

    /**
     * {@code activation(x) ⊙ mask}, the dropout that follows the activation fused into its pass.
     * @param mask a scaled dropout mask of x's shape ({@link DropoutKernel#mask}), or null for none
     * @return a new array
     */
    public static INDArray forward(AdapterActivation activation, INDArray x, INDArray mask) {
        switch (activation) {
            case GELU:
                if (mask == null) {
                    return ChunkedMap.map((in, out, scratch, n) -> gelu(in[0], out, scratch[0], n), x);
                }
                return ChunkedMap.map((in, out, scratch, n) -> {
                    gelu(in[0], out, scratch[0], n);
                    double[] m = in[1];
                    for (int i = 0; i < n; i++) {
                        out[i] *= m[i];
                    }
                }, x, mask);
            case RELU:
                return DropoutKernel.apply(Transforms.relu(x, true), mask);
            default:
                throw new IllegalArgumentException("Unknown activation " + activation);
        }
    }

    /** {@code y = x·Φ(x)} for the first n elements. */
    private static void gelu(double[] x, double[] y, double[] scratch, int n) {
        KernelMath.erf(x, INV_SQRT2, n, y, scratch);
        for (int i = 0; i < n; i++) {
            y[i] = x[i] * 0.5 * (1.0 + y[i]);
        }
    }

    /** @return dL/dx given dL/dy and the pre-activation x; a new array */
    public static INDArray backward(AdapterActivation activation, INDArray x, INDArray dy) {
        return backward(activation, x, dy, null);
    }

    /**
     * Backward of {@link #forward(AdapterActivation, INDArray, INDArray)}: @return dL/dx given dL/dy (of the masked
     * output), the pre-activation x and the same mask (null for none); a new array.
     */
    public static INDArray backward(AdapterActivation activation, INDArray x, INDArray dy, INDArray mask) {
        switch (activation) {
            case GELU:
                // d/dx [x Φ(x)] = Φ(x) + x φ(x)
                return ChunkedMap.map((in, out, scratch, n) -> {
                    double[] v = in[0], g = in[1], erf = scratch[1];
                    if (mask != null) {
                        double[] m = in[2];
                        for (int i = 0; i < n; i++) {
                            g[i] *= m[i];
                        }
                    }
                    KernelMath.erf(v, INV_SQRT2, n, erf, scratch[0]);
                    for (int i = 0; i < n; i++) {
                        out[i] = KernelMath.expNonPositive(-0.5 * v[i] * v[i]);
                    }
                    for (int i = 0; i < n; i++) {
                        out[i] = g[i] * (0.5 * (1.0 + erf[i]) + v[i] * out[i] * INV_SQRT_2PI);
                    }
                }, mask == null ? new INDArray[]{x, dy} : new INDArray[]{x, dy, mask});
            case RELU:
                INDArray masked = mask == null ? dy : dy.mul(mask);
                return x.gt(0.0).castTo(dy.dataType()).muli(masked);
            default:
                throw new IllegalArgumentException("Unknown activation " + activation);
        }
    }
}
