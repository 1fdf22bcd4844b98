package org.sa2vp.layers.runtime;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.BernoulliDistribution;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Inverted dropout as in PyTorch: zero with probability p, scale survivors by 1/(1-p). The mask (already
 * scaled) is returned so that backward multiplies by the same values. Draws from {@link Nd4j#getRandom()},
 * so {@code Nd4j.getRandom().setSeed(..)} makes a run repeatable.
 *
 * <p>Also stochastic depth ("drop path", timm's {@code DropPath}, torchvision's {@code StochasticDepth} in
 * {@code "row"} mode): one keep-or-drop draw per sample for a whole residual branch, {@link #perSampleMask}.
 */
public final class DropoutKernel {

    private DropoutKernel() {
    }

    /** @return the scaled mask to multiply by, or null when dropout is inactive (p = 0 or not training) */
    public static INDArray mask(INDArray like, double p, boolean training) {
        return training && p > 0.0 ? draw(like.dataType(), like.shape(), p) : null;
    }

    /**
     * Stochastic depth's per-sample mask {@code [B, 1]}: each sample's branch kept with probability 1−p and then
     * scaled by 1/(1−p), or dropped (0). Null when inactive (p = 0 or not training).
     */
    public static INDArray perSampleMask(long batch, DataType type, double p, boolean training) {
        return training && p > 0.0 ? draw(type, new long[]{batch, 1}, p) : null;
    }

    private static INDArray draw(DataType type, long[] shape, double p) {
        INDArray mask = Nd4j.createUninitialized(type, shape);
        Nd4j.getExecutioner().exec(new BernoulliDistribution(mask, 1.0 - p), Nd4j.getRandom());
        return mask.muli(1.0 / (1.0 - p));
    }

    /** Applies a mask from {@link #mask} in place; a null mask is the identity. */
    public static INDArray apply(INDArray x, INDArray mask) {
        return mask == null ? x : x.muli(mask);
    }

    /**
     * Applies a mask from {@link #perSampleMask} in place to the rows of {@code x [B·T, D]} (sample b owns rows
     * {@code b·T … b·T + T − 1}); a null mask is the identity. {@code x} must be a dense row-major matrix.
     */
    public static INDArray applyPerSample(INDArray x, INDArray mask) {
        if (mask != null) {
            x.reshape('c', mask.size(0), x.length() / mask.size(0)).muliColumnVector(mask);
        }
        return x;
    }
}
