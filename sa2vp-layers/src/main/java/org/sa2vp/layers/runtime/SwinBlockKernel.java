package org.sa2vp.layers.runtime;

import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.function.UnaryOperator;

/**
 * A Swin Transformer block on a token matrix {@code [B·T, D]} (T = H·W tokens of a map, row-major), forward and
 * backward:
 * <pre>
 *   x = x + DropPath(proj(W-MSA(LN1(x))))     (window attention, see {@link ShiftedWindows})
 *   x = x + DropPath(fc2(GELU(fc1(LN2(x)))))  (exact erf GELU)
 * </pre>
 * The window attention: the normalised tokens are gathered into (shifted) windows, padding slots zero
 * {@code [B·nW·N, D]}; q/k/v are projected there (padding slots get the q/k/v biases, as in torchvision, where the
 * map is padded before the projection); each window attends with heads of D/H, scale (D/H)^−½, plus the relative
 * position bias of its head and the window's shift mask; the attended windows go back to the map (rolled back,
 * cropped) and through the output projection. Drop path keeps or drops each sample's branch (two independent draws
 * per block, as timm and torchvision), in training only.
 *
 * <p>Global tokens (VPT's prompts on Swin) may stand in front of every image's map: they join the attention of
 * every window of their image and their attention outputs are the mean over those windows.
 *
 * <p>Weight gradients are computed only for the entries of the gradient record that are non-null (frozen ones
 * cost nothing but the input-gradient GEMMs).
 */
public final class SwinBlockKernel {

    private SwinBlockKernel() {
    }

    /** The block's weights (or their gradients): a ViT block's ({@link BlockWeights}) and the bias table. */
    public record Weights(BlockWeights block, INDArray relativePositionBias) {
        /** Gradient record of a frozen block. */
        public static final Weights FROZEN = new Weights(BlockWeights.FROZEN, null);
    }

    /**
     * What {@link #backward} needs of a forward pass; {@code windowed}, {@code merged}, {@code normed2} and
     * {@code hidden} (the inputs of the weight GEMMs) are null when their weights are frozen.
     */
    public record Cache(ShiftedWindows windows, int batch, int globals, LayerNormKernel.Cache norm1, INDArray windowed,
                        INDArray qkvW, AttentionKernel.Cache attention, INDArray merged, INDArray attentionPath,
                        LayerNormKernel.Cache norm2, INDArray normed2, INDArray preActivation, INDArray hidden,
                        INDArray mlpPath) {
    }

    /** The block's output {@code [B·T, D]} and its cache. */
    public record Result(INDArray output, Cache cache) {
    }

    /**
     * @param x         tokens {@code [B·(P+T), D]}: per image its P global tokens, then its map; in training it must
     *                  stay unchanged until {@link #backward} has run (a layer's input does), as the cache refers to it
     * @param windows   the block's window layout (map, window, shift)
     * @param globals   P, tokens in front of the map that join every window's attention (VPT's prompts on Swin, see
     *                  {@link ShiftedWindows#partition(INDArray, int, int, double)}): no position bias, never masked,
     *                  their attention outputs averaged over the image's windows; LayerNorms and MLP as any token
     * @param dropPath  stochastic depth rate of this block; applied only when training
     * @param gradients the gradient record {@link #backward} will get (null: not known, keep everything): in training
     *                  the pass runs in {@link KernelWorkspaces#scratch()} and only what backward reads is copied into
     *                  the caller's workspace, the inputs of the weight GEMMs only for weights whose entry is non-null
     */
    public static Result forward(INDArray x, Weights w, ShiftedWindows windows, int globals, int heads, int batch,
                                 double eps, double dropPath, boolean training, Weights gradients) {
        return forward(x, w, windows, globals, heads, batch, eps, dropPath, training, gradients, null);
    }

    /**
     * As above; in training the output {@code [B·(P+T), D]} (which backward does not read) is copied out of scratch
     * by {@code keepOutput} (null: into the caller's workspace, as the cache): a layer passes the copy into the
     * network's activations, which saves the cache a matrix per block and the layer a copy.
     */
    public static Result forward(INDArray x, Weights w, ShiftedWindows windows, int globals, int heads, int batch,
                                 double eps, double dropPath, boolean training, Weights gradients,
                                 UnaryOperator<INDArray> keepOutput) {
        if (!training) {
            return compute(x, w, windows, globals, heads, batch, eps, dropPath, false);
        }
        // The keep/scratch split of TransformerBlockKernel: keeping every intermediate made a frozen Swin-B block's
        // cache about 2.5x what its backward reads (the normalised copies, the windowed LN1 output, the merged
        // attention output, the MLP's hidden layer, the q/k/v and projection outputs) and SA2VP-Swin's peak RSS
        // about twice PyTorch's.
        UnaryOperator<INDArray> keep = KernelWorkspaces.keeper(Nd4j.getMemoryManager().getCurrentWorkspace());
        try (MemoryWorkspace scratch = KernelWorkspaces.scratch()) {
            Result r = compute(x, w, windows, globals, heads, batch, eps, dropPath, true);
            Cache c = r.cache();
            BlockWeights g = gradients == null ? null : gradients.block();
            AttentionWeights ga = g == null ? null : g.attention();
            boolean qkvWeights = ga == null || ga.queryW() != null || ga.keyW() != null || ga.valueW() != null;
            // LN1's normalised copy is not kept: backward recomputes it from x, which the caller keeps (see above).
            Cache kept = new Cache(windows, batch, globals, c.norm1().fromInput(x, keep),
                    qkvWeights ? keep.apply(c.windowed()) : null, keep.apply(c.qkvW()), c.attention().kept(keep),
                    ga == null || ga.outW() != null ? keep.apply(c.merged()) : null, keep.apply(c.attentionPath()),
                    c.norm2().kept(keep), g == null || g.fc1W() != null ? keep.apply(c.normed2()) : null,
                    keep.apply(c.preActivation()), g == null || g.fc2W() != null ? keep.apply(c.hidden()) : null,
                    keep.apply(c.mlpPath()));
            return new Result((keepOutput == null ? keep : keepOutput).apply(r.output()), kept);
        }
    }

    private static Result compute(INDArray x, Weights w, ShiftedWindows windows, int globals, int heads, int batch,
                                  double eps, double dropPath, boolean training) {
        BlockWeights b = w.block();
        AttentionWeights a = b.attention();
        LayerNormKernel.Cache[] n1 = new LayerNormKernel.Cache[1];
        INDArray normed1 = LayerNormKernel.forward(x, a.normGamma(), a.normBeta(), eps, n1);
        INDArray windowed = windows.partition(normed1, batch, globals, 1.0);            // [B·nW·(P+N), D]
        TransformerBlockKernel.FusedQkv fused = TransformerBlockKernel.FusedQkv.of(a);
        INDArray qkv = LinearKernel.forward(windowed, fused.weight(), fused.bias());       // [B·nW·N, 3D]
        AttentionKernel.Result attention = AttentionKernel.denseSelf(qkv, batch * windows.windows(), heads,
                windows.additiveScores(w.relativePositionBias(), globals));              // [B·nW·(P+N), D]
        INDArray merged = windows.merge(attention.output(), batch, globals, 1.0 / windows.windows()); // [B·(P+T), D]
        INDArray attentionPath = DropoutKernel.perSampleMask(batch, x.dataType(), dropPath, training);
        INDArray x1 = DropoutKernel.applyPerSample(LinearKernel.forward(merged, a.outW(), a.outB()), attentionPath)
                .addi(x);
        LayerNormKernel.Cache[] n2 = new LayerNormKernel.Cache[1];
        INDArray normed2 = LayerNormKernel.forward(x1, b.norm2Gamma(), b.norm2Beta(), eps, n2);
        INDArray pre = LinearKernel.forward(normed2, b.fc1W(), b.fc1B());
        INDArray hidden = ActivationKernel.forward(AdapterActivation.GELU, pre);
        INDArray mlpPath = DropoutKernel.perSampleMask(batch, x.dataType(), dropPath, training);
        INDArray out = DropoutKernel.applyPerSample(LinearKernel.forward(hidden, b.fc2W(), b.fc2B()), mlpPath)
                .addi(x1);
        return new Result(out, new Cache(windows, batch, globals, n1[0], windowed, fused.weight(), attention.cache(),
                merged, attentionPath, n2[0], normed2, pre, hidden, mlpPath));
    }

    /**
     * @param dOut gradient of the output {@code [B·(P+T), D]}
     * @param g    gradient accumulators; {@link Weights#FROZEN} (or null) when the whole block is frozen
     * @return the gradient of the input {@code [B·(P+T), D]}
     */
    public static INDArray backward(INDArray dOut, Cache c, Weights w, Weights g) {
        Weights gw = g == null ? Weights.FROZEN : g;
        BlockWeights b = w.block(), gb = gw.block();
        AttentionWeights a = b.attention(), ga = gb.attention();
        ShiftedWindows windows = c.windows();

        INDArray dMlp = DropoutKernel.applyPerSample(dOut.dup('c'), c.mlpPath());
        INDArray dHidden = LinearKernel.backward(dMlp, c.hidden(), b.fc2W(), gb.fc2W(), gb.fc2B(), true);
        INDArray dPre = ActivationKernel.backward(AdapterActivation.GELU, c.preActivation(), dHidden);
        INDArray dNormed2 = LinearKernel.backward(dPre, c.normed2(), b.fc1W(), gb.fc1W(), gb.fc1B(), true);
        INDArray dx1 = LayerNormKernel.backward(dNormed2, c.norm2(), b.norm2Gamma(), gb.norm2Gamma(),
                gb.norm2Beta()).addi(dOut);

        INDArray dProjected = DropoutKernel.applyPerSample(dx1.dup('c'), c.attentionPath());
        INDArray dMerged = LinearKernel.backward(dProjected, c.merged(), a.outW(), ga.outW(), ga.outB(), true);
        int globals = c.globals(), n = windows.windowTokens();
        // [B·nW·(P+N), D]; the prompts' mean over windows sends each window 1/nW of their gradient
        INDArray dAttended = windows.partition(dMerged, c.batch(), globals, 1.0 / windows.windows());
        INDArray table = w.relativePositionBias();
        INDArray dAdditive = gw.relativePositionBias() == null ? null
                : Nd4j.zeros(table.dataType(), windows.windows(), table.size(1), globals + n, globals + n);
        INDArray dQkv = AttentionKernel.backwardPacked(dAttended, c.attention(), dAdditive); // [B·nW·N, 3D]
        if (dAdditive != null) {
            // every window shares its heads' bias: sum the windows, then scatter into the table
            // (the global tokens' rows and columns carry no bias)
            INDArray dBias = dAdditive.sum(0).get(NDArrayIndex.all(), NDArrayIndex.interval(globals, globals + n),
                    NDArrayIndex.interval(globals, globals + n));
            ShiftedWindows.accumulateTableGradient(dBias, gw.relativePositionBias(), windows.window());
        }
        TransformerBlockKernel.accumulateQkvGradients(dQkv, c.windowed(), ga);
        INDArray dWindowed = Gemm.product(dQkv, false, c.qkvW(), true);                 // [B·nW·N, D]
        INDArray dNormed1 = windows.merge(dWindowed, c.batch(), globals, 1.0);          // [B·(P+T), D]
        return LayerNormKernel.backward(dNormed1, c.norm1(), a.normGamma(), ga.normGamma(), ga.normBeta())
                .addi(dx1);
    }
}
