package org.sa2vp.layers.runtime;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code y = x·W + b} on token matrices, with a backward pass that computes the weight gradient only when
 * it is asked for: frozen backbone projections cost one GEMM (dX) instead of two.
 */
public final class LinearKernel {

    private LinearKernel() {
    }

    /** @param x {@code [N, in]}, W {@code [in, out]}, b {@code [1, out]} or null; @return {@code [N, out]} */
    public static INDArray forward(INDArray x, INDArray w, INDArray b) {
        INDArray y = Gemm.product(x, w);
        return b == null ? y : y.addiRowVector(b);
    }

    /**
     * @param dW null when the weight is frozen (no GEMM is spent on it)
     * @param db null when the bias is frozen
     * @param needInputGradient false for the first op on a leaf input whose gradient nobody reads
     * @return dL/dx {@code [N, in]}, or null when not needed
     */
    public static INDArray backward(INDArray dy, INDArray x, INDArray w, INDArray dW, INDArray db,
                                    boolean needInputGradient) {
        if (dW != null) {
            Gemm.accumulate(dW, x, true, dy, false);
        }
        if (db != null) {
            db.addi(dy.sum(0).reshape(db.shape()));
        }
        return needInputGradient ? Gemm.product(dy, false, w, true) : null;
    }
}
