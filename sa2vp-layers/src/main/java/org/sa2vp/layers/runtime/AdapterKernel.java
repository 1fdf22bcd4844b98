package org.sa2vp.layers.runtime;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Prompt adapter (authors' {@code Mlp_small} behind {@code ffn_norm}), on token matrices {@code [N, D]}:
 * {@code Dropout(up(Dropout(act(down(LN(x))))))}, no residual.
 */
public final class AdapterKernel {

    private AdapterKernel() {
    }

    /** Forward state for {@link #backward}: the intermediate {@code [N, ·]} matrices and the dropout masks (null when off). */
    public record Cache(LayerNormKernel.Cache norm, INDArray normed, INDArray preActivation, INDArray hidden,
                        INDArray hiddenMask, INDArray outputMask) {
    }

    /** The adapter's output {@code [N, D]} and the state its backward pass needs. */
    public record Result(INDArray output, Cache cache) {
    }

    public static Result forward(INDArray x, AdapterWeights w, double eps, AdapterActivation activation,
                                 double dropout, boolean training) {
        LayerNormKernel.Cache[] norm = new LayerNormKernel.Cache[1];
        INDArray normed = LayerNormKernel.forward(x, w.normGamma(), w.normBeta(), eps, norm);
        INDArray pre = LinearKernel.forward(normed, w.downW(), w.downB());
        INDArray hiddenMask = DropoutKernel.mask(pre, dropout, training);
        INDArray hidden = ActivationKernel.forward(activation, pre, hiddenMask);
        INDArray out = LinearKernel.forward(hidden, w.upW(), w.upB());
        INDArray outputMask = DropoutKernel.mask(out, dropout, training);
        DropoutKernel.apply(out, outputMask);
        return new Result(out, new Cache(norm[0], normed, pre, hidden, hiddenMask, outputMask));
    }

    /** @param g gradient accumulators (null entries for frozen parameters) */
    public static INDArray backward(INDArray dOut, Cache c, AdapterWeights w, AdapterWeights g,
                                    AdapterActivation activation) {
        INDArray dUp = c.outputMask() == null ? dOut : dOut.mul(c.outputMask());
        INDArray dHidden = LinearKernel.backward(dUp, c.hidden(), w.upW(), g.upW(), g.upB(), true);
        INDArray dPre = ActivationKernel.backward(activation, c.preActivation(), dHidden, c.hiddenMask());
        INDArray dNormed = LinearKernel.backward(dPre, c.normed(), w.downW(), g.downW(), g.downB(), true);
        return LayerNormKernel.backward(dNormed, c.norm(), w.normGamma(), g.normGamma(), g.normBeta());
    }
}
