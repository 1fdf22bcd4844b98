package org.sa2vp.layers;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.layers.runtime.AdapterActivation;
import org.sa2vp.layers.runtime.PatchEmbeddingKernel;

/**
 * SameDiff building blocks for the reference definitions of the SA2VP layers. They use only ops whose
 * forward and backward were verified in M2.1 ({@code docs/DL4J-NOTES.md} §5) (manual LayerNorm with epsilon, exact erf GELU,
 * 2-D mmul, batched 4-D mmul, additive-mask softmax). Token tensors are {@code [B, T, D]} with a known T.
 */
public final class SameDiffReference {

    private SameDiffReference() {
    }

    /**
     * LayerNorm over the last axis with epsilon; gamma, beta {@code [1, D]}. Means are taken with a matmul by a
     * constant 1/D column: in M2.1 the gradient function of {@code mean(keepDims, axis)} fails from its second
     * execution on in float32 ("Axis array [1065353216] contains values above array rank").
     */
    public static SDVariable layerNorm(SDVariable x, SDVariable gamma, SDVariable beta, double eps, long tokens, long dim) {
        SameDiff sd = x.getSameDiff();
        SDVariable averager = sd.constant(Nd4j.valueArrayOf(new long[]{dim, 1}, 1.0 / dim).castTo(x.dataType()));
        SDVariable x2 = x.reshape(-1, dim);
        SDVariable centred = x2.sub(x2.mmul(averager));
        SDVariable variance = centred.mul(centred).mmul(averager);
        SDVariable normed = centred.div(sd.math().sqrt(variance.add(eps)));
        return normed.mul(flat(gamma)).add(flat(beta)).reshape(-1, tokens, dim);
    }

    /** {@code x·W + b} for {@code x [B, T, in]}, W {@code [in, out]}, b {@code [1, out]}. */
    public static SDVariable linear(SDVariable x, SDVariable w, SDVariable b, long tokens, long in, long out) {
        SDVariable y = x.reshape(-1, in).mmul(w).add(flat(b));
        return y.reshape(-1, tokens, out);
    }

    /** Exact GELU {@code 0.5·x·(1 + erf(x/√2))}. */
    public static SDVariable gelu(SDVariable x) {
        SameDiff sd = x.getSameDiff();
        return x.mul(0.5).mul(sd.math().erf(x.div(Math.sqrt(2.0))).add(1.0));
    }

    static SDVariable activation(SDVariable x, AdapterActivation activation) {
        return activation == AdapterActivation.GELU ? gelu(x) : x.getSameDiff().nn().relu(x, 0.0);
    }

    /**
     * Multi-head attention {@code softmax(Q·Kᵀ/√dh + mask)·V} for projected Q {@code [B,Tq,D]}, K, V
     * {@code [B,Tk,D]}; mask is an additive {@code [Tq, Tk]} constant or null.
     */
    static SDVariable attention(SDVariable q, SDVariable k, SDVariable v, int heads, long tq, long tk, long dim,
                                SDVariable mask) {
        long headDim = dim / heads;
        SDVariable q4 = q.reshape(-1, tq, heads, headDim).permute(0, 2, 1, 3);
        SDVariable k4 = k.reshape(-1, tk, heads, headDim).permute(0, 2, 1, 3);
        SDVariable v4 = v.reshape(-1, tk, heads, headDim).permute(0, 2, 1, 3);
        SameDiff sd = q.getSameDiff();
        // Always add a mask (zeros when none): in M2.1 the gradient function of mmul → mul(scale) → softmax
        // fails from its second execution on ("Axis array [..] contains values above array rank").
        SDVariable additive = mask != null ? mask
                : sd.constant(Nd4j.zeros(q.dataType(), tq, tk));
        SDVariable scores = sd.mmul(q4, k4, false, true, false).mul(1.0 / Math.sqrt(headDim)).add(additive);
        SDVariable probabilities = sd.nn().softmax(scores, 3);
        SDVariable out = sd.mmul(probabilities, v4);
        return out.permute(0, 2, 1, 3).reshape(-1, tq, dim);
    }

    /** Parameters of one attention: a LayerNorm prefix and the projections. */
    record AttentionParams(SDVariable normGamma, SDVariable normBeta, SDVariable queryW, SDVariable queryB,
                           SDVariable keyW, SDVariable keyB, SDVariable valueW, SDVariable valueB, SDVariable outW,
                           SDVariable outB) {
    }

    /** {@code q + out(attention(LN(q)Wq, LN(kv)Wk, LN(kv)Wv))}; a null mask means global attention. */
    static SDVariable crossAttention(SDVariable query, SDVariable keyValue, AttentionParams p, int heads, long tq,
                                     long tk, long dim, double eps, SDVariable mask) {
        SDVariable qn = layerNorm(query, p.normGamma(), p.normBeta(), eps, tq, dim);
        SDVariable kn = layerNorm(keyValue, p.normGamma(), p.normBeta(), eps, tk, dim);
        SDVariable q = linear(qn, p.queryW(), p.queryB(), tq, dim, dim);
        SDVariable k = linear(kn, p.keyW(), p.keyB(), tk, dim, dim);
        SDVariable v = linear(kn, p.valueW(), p.valueB(), tk, dim, dim);
        SDVariable attended = attention(q, k, v, heads, tq, tk, dim, mask);
        return linear(attended, p.outW(), p.outB(), tq, dim, dim).add(query);
    }

    /** Pre-LN ViT block: {@code x + Attn(LN1 x)}, then {@code + fc2(GELU(fc1(LN2 x)))}. */
    static SDVariable block(SDVariable x, AttentionParams attention, SDVariable norm2Gamma, SDVariable norm2Beta,
                            SDVariable fc1W, SDVariable fc1B, SDVariable fc2W, SDVariable fc2B, int heads,
                            long tokens, long dim, long mlp, double eps) {
        SDVariable n1 = layerNorm(x, attention.normGamma(), attention.normBeta(), eps, tokens, dim);
        SDVariable q = linear(n1, attention.queryW(), attention.queryB(), tokens, dim, dim);
        SDVariable k = linear(n1, attention.keyW(), attention.keyB(), tokens, dim, dim);
        SDVariable v = linear(n1, attention.valueW(), attention.valueB(), tokens, dim, dim);
        SDVariable x1 = linear(attention(q, k, v, heads, tokens, tokens, dim, null), attention.outW(),
                attention.outB(), tokens, dim, dim).add(x);
        SDVariable n2 = layerNorm(x1, norm2Gamma, norm2Beta, eps, tokens, dim);
        SDVariable hidden = gelu(linear(n2, fc1W, fc1B, tokens, dim, mlp));
        return linear(hidden, fc2W, fc2B, tokens, mlp, dim).add(x1);
    }

    /** Prompt adapter {@code up(act(down(LN x)))}, no residual. */
    static SDVariable adapter(SDVariable x, SDVariable normGamma, SDVariable normBeta, SDVariable downW,
                              SDVariable downB, SDVariable upW, SDVariable upB, AdapterActivation activation,
                              long tokens, long dim, long adapterSize, double eps) {
        SDVariable normed = layerNorm(x, normGamma, normBeta, eps, tokens, dim);
        SDVariable hidden = activation(linear(normed, downW, downB, tokens, dim, adapterSize), activation);
        return linear(hidden, upW, upB, tokens, adapterSize, dim);
    }

    /**
     * The P×P stride-P convolution of a patch embedding as one GEMM: images {@code [B, C, H, W]} → tokens
     * {@code [B, N, D]} (patches row-major), {@code patchW [C·P·P, D]}, {@code patchB [1, D]}.
     */
    public static SDVariable patchTokens(SDVariable images, SDVariable patchW, SDVariable patchB,
                                         PatchEmbeddingKernel.Geometry g) {
        SDVariable patches = images.reshape(-1, g.channels(), g.gridHeight(), g.patch(), g.gridWidth(), g.patch())
                .permute(0, 2, 4, 1, 3, 5).reshape(-1, (long) g.channels() * g.patch() * g.patch());
        return patches.mmul(patchW).add(flat(patchB)).reshape(-1, g.patches(), g.hidden());
    }

    /** {@code [1, D]} parameter as a {@code [D]} vector for broadcasting against {@code [B, T, D]}. */
    private static SDVariable flat(SDVariable v) {
        return v.reshape(-1);
    }
}
