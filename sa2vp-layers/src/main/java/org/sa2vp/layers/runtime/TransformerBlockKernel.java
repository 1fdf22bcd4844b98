package org.sa2vp.layers.runtime;

import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.function.UnaryOperator;

/**
 * A pre-LN ViT encoder block on a token matrix {@code [B·T, D]}, forward and backward:
 * <pre>
 *   x = x + Attn(LN1(x))                                      (global multi-head self-attention)
 *   x = x + Dropout(fc2(Dropout(GELU(fc1(LN2(x))))))          (exact erf GELU; dropout as in the VPT ViT)
 * </pre>
 * The backward pass computes weight gradients only for the entries of the gradient record that are
 * non-null, so a frozen block costs the input-gradient GEMMs only.
 */
public final class TransformerBlockKernel {

    private TransformerBlockKernel() {
    }

    /** Forward state for {@link #backward}: the block's intermediate matrices and the MLP dropout masks (null when off). */
    public record Cache(LayerNormKernel.Cache norm1, INDArray normed1, INDArray qkvW, AttentionKernel.Cache attention,
                        INDArray attended, LayerNormKernel.Cache norm2, INDArray normed2, INDArray preActivation,
                        INDArray hidden, INDArray hiddenMask, INDArray outputMask) {
    }

    /** The block's output {@code [B·T, D]} and the state {@link #backward} needs. */
    public record Result(INDArray output, Cache cache) {
    }

    /**
     * The q/k/v projections side by side, {@code weight [D, 3D]} and {@code bias [1, 3D]}: one GEMM instead of three
     * (copying the weights costs far less than two GEMM calls). Build it once per layer call and share it between
     * the streams that go through the same block.
     */
    public record FusedQkv(INDArray weight, INDArray bias) {
        public static FusedQkv of(AttentionWeights a) {
            return new FusedQkv(Nd4j.concat(1, a.queryW(), a.keyW(), a.valueW()),
                    Nd4j.concat(1, a.queryB(), a.keyB(), a.valueB()));
        }
    }

    public static Result forward(INDArray x, BlockWeights w, double eps, int heads, int batch, double mlpDropout,
                                 boolean training, BlockWeights gradients) {
        return forward(x, w, FusedQkv.of(w.attention()), eps, heads, batch, mlpDropout, training, gradients);
    }

    /**
     * As above with the block's fused q/k/v projections already built.
     *
     * <p>In training the pass runs in {@link KernelWorkspaces#scratch()} and only what backward reads is copied into
     * the caller's workspace: the inputs of the weight GEMMs only for the weights whose entry in {@code gradients}
     * is non-null (null: all of them), so a frozen block keeps about half of what its forward pass allocates.
     */
    public static Result forward(INDArray x, BlockWeights w, FusedQkv fused, double eps, int heads, int batch,
                                 double mlpDropout, boolean training, BlockWeights gradients) {
        if (!training) {
            return compute(x, w, fused, eps, heads, batch, mlpDropout, false);
        }
        UnaryOperator<INDArray> keep = KernelWorkspaces.keeper(Nd4j.getMemoryManager().getCurrentWorkspace());
        try (MemoryWorkspace scratch = KernelWorkspaces.scratch()) {
            Result r = compute(x, w, fused, eps, heads, batch, mlpDropout, true);
            Cache c = r.cache();
            BlockWeights g = gradients;
            AttentionWeights ga = g == null ? null : g.attention();
            boolean qkvWeights = ga == null || ga.queryW() != null || ga.keyW() != null || ga.valueW() != null;
            Cache kept = new Cache(c.norm1().kept(keep), qkvWeights ? keep.apply(c.normed1()) : null,
                    keep.apply(c.qkvW()), c.attention().kept(keep),
                    ga == null || ga.outW() != null ? keep.apply(c.attended()) : null, c.norm2().kept(keep),
                    g == null || g.fc1W() != null ? keep.apply(c.normed2()) : null, keep.apply(c.preActivation()),
                    g == null || g.fc2W() != null ? keep.apply(c.hidden()) : null, keep.apply(c.hiddenMask()),
                    keep.apply(c.outputMask()));
            return new Result(keep.apply(r.output()), kept);
        }
    }

    private static Result compute(INDArray x, BlockWeights w, FusedQkv fused, double eps, int heads, int batch,
                                  double mlpDropout, boolean training) {
        AttentionWeights a = w.attention();
        LayerNormKernel.Cache[] n1 = new LayerNormKernel.Cache[1];
        INDArray normed1 = LayerNormKernel.forward(x, a.normGamma(), a.normBeta(), eps, n1);
        INDArray qkvW = fused.weight();
        INDArray qkv = LinearKernel.forward(normed1, qkvW, fused.bias());
        AttentionKernel.Result attention = AttentionKernel.denseSelf(qkv, batch, heads);
        INDArray x1 = LinearKernel.forward(attention.output(), a.outW(), a.outB()).addi(x);
        LayerNormKernel.Cache[] n2 = new LayerNormKernel.Cache[1];
        INDArray normed2 = LayerNormKernel.forward(x1, w.norm2Gamma(), w.norm2Beta(), eps, n2);
        INDArray pre = LinearKernel.forward(normed2, w.fc1W(), w.fc1B());
        INDArray hiddenMask = DropoutKernel.mask(pre, mlpDropout, training);
        INDArray hidden = ActivationKernel.forward(AdapterActivation.GELU, pre, hiddenMask);
        INDArray mlp = LinearKernel.forward(hidden, w.fc2W(), w.fc2B());
        INDArray outputMask = DropoutKernel.mask(mlp, mlpDropout, training);
        INDArray out = DropoutKernel.apply(mlp, outputMask).addi(x1);
        return new Result(out, new Cache(n1[0], normed1, qkvW, attention.cache(), attention.output(), n2[0], normed2,
                pre, hidden, hiddenMask, outputMask));
    }

    /** @param g gradient accumulators; {@link BlockWeights#FROZEN} (or null) when the whole block is frozen */
    public static INDArray backward(INDArray dOut, Cache c, BlockWeights w, BlockWeights g) {
        BlockWeights gb = g == null ? BlockWeights.FROZEN : g;
        AttentionWeights a = w.attention();
        AttentionWeights ga = gb.attention();
        INDArray dMlp = c.outputMask() == null ? dOut : dOut.mul(c.outputMask());
        INDArray dHidden = LinearKernel.backward(dMlp, c.hidden(), w.fc2W(), gb.fc2W(), gb.fc2B(), true);
        INDArray dPre = ActivationKernel.backward(AdapterActivation.GELU, c.preActivation(), dHidden, c.hiddenMask());
        INDArray dNormed2 = LinearKernel.backward(dPre, c.normed2(), w.fc1W(), gb.fc1W(), gb.fc1B(), true);
        INDArray dx1 = LayerNormKernel.backward(dNormed2, c.norm2(), w.norm2Gamma(), gb.norm2Gamma(),
                gb.norm2Beta()).addi(dOut);

        INDArray dAttended = LinearKernel.backward(dx1, c.attended(), a.outW(), ga.outW(), ga.outB(), true);
        INDArray dQkv = AttentionKernel.backwardPacked(dAttended, c.attention());
        accumulateQkvGradients(dQkv, c.normed1(), ga);
        INDArray dNormed1 = Gemm.product(dQkv, false, c.qkvW(), true);
        return LayerNormKernel.backward(dNormed1, c.norm1(), a.normGamma(), ga.normGamma(), ga.normBeta())
                .addi(dx1);
    }

    /**
     * Adds the q, k and v weight and bias gradients (the entries of {@code ga} that are non-null) from the packed
     * gradient of the fused projection {@code dQkv [M, 3D]} and its input rows {@code normed [M, D]}.
     */
    static void accumulateQkvGradients(INDArray dQkv, INDArray normed, AttentionWeights ga) {
        long d = dQkv.size(1) / 3;
        INDArray[] dW = {ga.queryW(), ga.keyW(), ga.valueW()};
        INDArray[] dB = {ga.queryB(), ga.keyB(), ga.valueB()};
        if (dW[0] != null || dW[1] != null || dW[2] != null) {
            INDArray all = Gemm.product(normed, true, dQkv, false);
            for (int i = 0; i < 3; i++) {
                if (dW[i] != null) {
                    dW[i].addi(columns(all, i * d, (i + 1) * d));
                }
            }
        }
        if (dB[0] != null || dB[1] != null || dB[2] != null) {
            INDArray all = dQkv.sum(0).reshape(1, 3 * d);
            for (int i = 0; i < 3; i++) {
                if (dB[i] != null) {
                    dB[i].addi(columns(all, i * d, (i + 1) * d));
                }
            }
        }
    }

    /** Columns {@code [from, to)} of a matrix (a view). */
    private static INDArray columns(INDArray m, long from, long to) {
        return m.get(NDArrayIndex.all(), NDArrayIndex.interval(from, to));
    }
}
