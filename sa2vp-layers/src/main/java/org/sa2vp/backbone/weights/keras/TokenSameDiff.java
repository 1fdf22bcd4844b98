package org.sa2vp.backbone.weights.keras;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.factory.Nd4j;

/**
 * SameDiff definitions of the imported token layers: the reference runtime ({@code Implementation.SAMEDIFF}) that
 * the hand-written FAST runtimes are checked against. Token tensors are {@code [B, T, D]} with a known T; only ops
 * whose forward and backward were verified in M2.1 ({@code docs/DL4J-NOTES.md} §5) are used (means by a constant matmul, 2-D mmul,
 * batched 4-D mmul, softmax with an additive zero mask).
 */
final class TokenSameDiff {

    private TokenSameDiff() {
    }

    /**
     * LayerNorm over the last axis of {@code x [N, D]} with epsilon; gamma and beta {@code [1, D]}. Means are a
     * matmul with a constant 1/D column because M2.1's gradient of {@code mean(keepDims, axis)} fails on
     * re-execution in float32.
     */
    static SDVariable layerNorm(SDVariable x, SDVariable gamma, SDVariable beta, double epsilon, long dim) {
        SameDiff sd = x.getSameDiff();
        SDVariable averager = sd.constant(Nd4j.valueArrayOf(new long[]{dim, 1}, 1.0 / dim).castTo(x.dataType()));
        SDVariable centred = x.sub(x.mmul(averager));
        SDVariable variance = centred.mul(centred).mmul(averager);
        SDVariable normalised = centred.div(sd.math().sqrt(variance.add(epsilon)));
        return normalised.mul(gamma.reshape(-1)).add(beta.reshape(-1));
    }

    /** {@code x·W + b} for {@code x [N, in]}, W {@code [in, out]}, b {@code [1, out]} or null. */
    static SDVariable linear(SDVariable x, SDVariable w, SDVariable b) {
        SDVariable y = x.mmul(w);
        return b == null ? y : y.add(b.reshape(-1));
    }

    /** Exact GELU {@code 0.5·x·(1 + erf(x/√2))}. */
    static SDVariable gelu(SDVariable x) {
        return x.mul(0.5).mul(x.getSameDiff().math().erf(x.div(Math.sqrt(2.0))).add(1.0));
    }

    /**
     * Multi-head attention {@code softmax(Q·Kᵀ/√dk)·V} for projected {@code q, k [B·T, H·dk]} and
     * {@code v [B·T, H·dv]}; returns {@code [B·T, H·dv]}.
     */
    static SDVariable attention(SDVariable q, SDVariable k, SDVariable v, int heads, long tokens, long keyDim,
                                long valueDim) {
        SameDiff sd = q.getSameDiff();
        SDVariable q4 = q.reshape(-1, tokens, heads, keyDim).permute(0, 2, 1, 3);
        SDVariable k4 = k.reshape(-1, tokens, heads, keyDim).permute(0, 2, 1, 3);
        SDVariable v4 = v.reshape(-1, tokens, heads, valueDim).permute(0, 2, 1, 3);
        // A zero additive mask: without it M2.1's gradient function of mmul -> mul -> softmax fails on re-execution.
        SDVariable zeroMask = sd.constant(Nd4j.zeros(q.dataType(), tokens, tokens));
        SDVariable scores = sd.mmul(q4, k4, false, true, false).mul(1.0 / Math.sqrt(keyDim)).add(zeroMask);
        SDVariable context = sd.mmul(sd.nn().softmax(scores, 3), v4);
        return context.permute(0, 2, 1, 3).reshape(-1, (long) heads * valueDim);
    }
}
