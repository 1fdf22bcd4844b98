package org.sa2vp.layers.runtime;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.sa2vp.layers.AdapterActivation;

/**
 * Element-wise activations with exact derivatives. GELU is the exact erf form used by the authors' code,
 * {@code x·Φ(x)} with {@code Φ(x) = (1 + erf(x/√2))/2} ({@code sd.nn().gelu} in DL4J is the sigmoid approximation
 * and {@code preciseGelu} is wrong, see the notes).
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
        switch (activation) {
            case GELU:
                return ChunkedMap.map((in, out, scratch, n) -> {
                    double[] v = in[0];
                    KernelMath.erf(v, INV_SQRT2, n, out, scratch[0]);
                    for (int i = 0; i < n; i++) {
                        out[i] = v[i] * 0.5 * (1.0 + out[i]);
                    }
                }, x);
            case RELU:
                return Transforms.relu(x, true);
            default:
                throw new IllegalArgumentException("Unknown activation " + activation);
        }
    }

    /** @return dL/dx given dL/dy and the pre-activation x; a new array */
    public static INDArray backward(AdapterActivation activation, INDArray x, INDArray dy) {
        switch (activation) {
            case GELU:
                // d/dx [x Φ(x)] = Φ(x) + x φ(x)
                return ChunkedMap.map((in, out, scratch, n) -> {
                    double[] v = in[0], g = in[1], erf = scratch[1];
                    KernelMath.erf(v, INV_SQRT2, n, erf, scratch[0]);
                    for (int i = 0; i < n; i++) {
                        out[i] = KernelMath.expNonPositive(-0.5 * v[i] * v[i]);
                    }
                    for (int i = 0; i < n; i++) {
                        out[i] = g[i] * (0.5 * (1.0 + erf[i]) + v[i] * out[i] * INV_SQRT_2PI);
                    }
                }, x, dy);
            case RELU:
                return x.gt(0.0).castTo(dy.dataType()).muli(dy);
            default:
                throw new IllegalArgumentException("Unknown activation " + activation);
        }
    }
}
