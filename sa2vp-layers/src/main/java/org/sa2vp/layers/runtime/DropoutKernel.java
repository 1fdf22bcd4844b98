package org.sa2vp.layers.runtime;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.BernoulliDistribution;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Inverted dropout as in PyTorch: zero with probability p, scale survivors by 1/(1-p). The mask (already
 * scaled) is returned so that backward multiplies by the same values. Draws from {@link Nd4j#getRandom()},
 * so {@code Nd4j.getRandom().setSeed(..)} makes a run repeatable.
 */
public final class DropoutKernel {

    private DropoutKernel() {
    }

    /** @return the scaled mask to multiply by, or null when dropout is inactive (p = 0 or not training) */
    public static INDArray mask(INDArray like, double p, boolean training) {
        if (!training || p <= 0.0) {
            return null;
        }
        INDArray mask = Nd4j.createUninitialized(like.dataType(), like.shape());
        Nd4j.getExecutioner().exec(new BernoulliDistribution(mask, 1.0 - p), Nd4j.getRandom());
        return mask.muli(1.0 / (1.0 - p));
    }

    /** Applies a mask from {@link #mask} in place; a null mask is the identity. */
    public static INDArray apply(INDArray x, INDArray mask) {
        return mask == null ? x : x.muli(mask);
    }
}
