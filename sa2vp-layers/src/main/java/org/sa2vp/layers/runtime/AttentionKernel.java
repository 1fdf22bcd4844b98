package org.sa2vp.layers.runtime;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;

import java.util.stream.IntStream;

/**
 * Multi-head scaled dot-product attention on projected queries, keys and values, forward and backward.
 *
 * <p>Two kernels: {@link #dense} (every query sees every key; batched GEMMs, for self-attention and the
 * global ablation) and {@link #windowed} (each query sees the keys its {@link WindowNeighbourhood} lists;
 * O(tokens·window·d) time and memory, never a tokens×tokens matrix). Inputs and outputs are token
 * matrices {@code [B·T, D]} with heads laid out as consecutive {@code D/H} column blocks.
 */
public final class AttentionKernel {

    private AttentionKernel() {
    }

    /** Forward state kept for backward. */
    public interface Cache {
        /** This cache with its arrays passed through {@code keep} (see {@link KernelWorkspaces#keeper}). */
        Cache kept(java.util.function.UnaryOperator<INDArray> keep);
    }

    /**
     * Dense attention state: head-major Q (already scaled by 1/√dh), K, V {@code [B,H,T,dh]} and the probabilities
     * {@code [B·H,Tq,Tk]}.
     */
    record DenseCache(INDArray q, INDArray k, INDArray v, INDArray probabilities, int batch, int heads)
            implements Cache {
        @Override
        public Cache kept(java.util.function.UnaryOperator<INDArray> keep) {
            return new DenseCache(keep.apply(q), keep.apply(k), keep.apply(v), keep.apply(probabilities), batch,
                    heads);
        }
    }

    /**
     * Windowed attention state: the projected Q, K, V token matrices themselves (they live in the layer's cache
     * workspace already; each slice is read again in backward) and the probabilities of each (query, key) pair.
     */
    record WindowedCache(INDArray q, INDArray k, INDArray v, double[] probabilities, long[] pairOffset,
                         WindowNeighbourhood neighbourhood, int batch, int heads) implements Cache {
        @Override
        public Cache kept(java.util.function.UnaryOperator<INDArray> keep) {
            return new WindowedCache(keep.apply(q), keep.apply(k), keep.apply(v), probabilities, pairOffset,
                    neighbourhood, batch, heads);
        }
    }

    /** Attention and its cache. */
    public record Result(INDArray output, Cache cache) {
    }

    /** Gradients of the projected queries, keys and values, {@code [B·T, D]} each. */
    public record Gradients(INDArray query, INDArray key, INDArray value) {
    }

    // ---------------------------------------------------------------------------------------- dense

    public static Result dense(INDArray q, INDArray k, INDArray v, int batch, int heads) {
        return attend(toHeads(q, batch, heads), toHeads(k, batch, heads), toHeads(v, batch, heads), batch, heads,
                null);
    }

    /**
     * Self-attention on the packed projections of one stream, {@code qkv [B·T, 3D]} with Q, K and V as consecutive
     * {@code D}-column blocks (one GEMM made them): one permute copy to head-major layout instead of three.
     * {@link #backwardPacked} returns the gradient in the same packed layout.
     */
    public static Result denseSelf(INDArray qkv, int batch, int heads) {
        return denseSelf(qkv, batch, heads, null);
    }

    /**
     * As {@link #denseSelf(INDArray, int, int)} with additive scores before the softmax: {@code additive
     * [G, H, T, T]} (G a divisor of the batch) is added to the scores of batch items {@code g, G + g, 2G + g, …}
     * (Swin's windows: G windows per image, each with its relative position bias and shift mask). The gradient of
     * the additive scores comes from {@link #backwardPacked(INDArray, Cache, INDArray)}.
     */
    public static Result denseSelf(INDArray qkv, int batch, int heads, INDArray additive) {
        long tokens = qkv.size(0) / batch;
        long headDim = qkv.size(1) / 3 / heads;
        if (additive != null && (additive.rank() != 4 || batch % additive.size(0) != 0 || additive.size(1) != heads
                || additive.size(2) != tokens || additive.size(3) != tokens)) {
            throw new IllegalArgumentException("Additive scores must be [G, " + heads + ", " + tokens + ", " + tokens
                    + "] with G a divisor of the batch " + batch + ", got " + additive.shapeInfoToString());
        }
        // [B, T, 3, H, dh] → [3, B, H, T, dh]
        INDArray packed = qkv.reshape('c', batch, tokens, 3, heads, headDim).permute(2, 0, 3, 1, 4).dup('c');
        return attend(packed.slice(0), packed.slice(1), packed.slice(2), batch, heads, additive);
    }

    private static Result attend(INDArray q4, INDArray k4, INDArray v4, int batch, int heads, INDArray additive) {
        // The 1/√dh scale is applied to Q [B,H,T,dh] rather than to the T×T scores: 197/64 times fewer multiplies.
        q4.muli(1.0 / Math.sqrt(q4.size(3)));
        // Batched GEMMs on [B·H, T, dh]: libnd4j runs the rank-3 form 20–30 % faster than the rank-4 one.
        INDArray scores = Nd4j.matmul(slices(q4), slices(k4), null, false, true, false);
        if (additive != null) {
            // [B·H, T, T] as [B/G, G·H·T·T]: one row per group of G batch items, the additive scores added to each
            scores.reshape('c', scores.length() / additive.length(), additive.length())
                    .addiRowVector(additive.reshape('c', 1, additive.length()));
        }
        INDArray probabilities = Nd4j.exec(new SoftMax(scores, scores, 2))[0];
        INDArray out = Nd4j.matmul(probabilities, slices(v4)).reshape('c', q4.shape());
        return new Result(fromHeads(out), new DenseCache(q4, k4, v4, probabilities, batch, heads));
    }

    // ------------------------------------------------------------------------------------- windowed

    /**
     * Each (batch item, head) slice is gathered into small Java arrays, computed in double and scattered back, in
     * parallel over slices: no whole-tensor copies on the Java heap (they made this kernel allocation-bound).
     */
    public static Result windowed(INDArray q, INDArray k, INDArray v, int batch, int heads,
                                  WindowNeighbourhood neighbourhood) {
        int dim = (int) q.size(1);
        int tq = neighbourhood.queryTokens();
        int tk = neighbourhood.keyTokens();
        int headDim = dim / heads;
        double scale = 1.0 / Math.sqrt(headDim);
        long[] pairOffset = new long[tq + 1];
        for (int t = 0; t < tq; t++) {
            pairOffset[t + 1] = pairOffset[t] + neighbourhood.keysOf(t).length;
        }
        int pairsPerSlice = Math.toIntExact(pairOffset[tq]);
        double[] probabilities = new double[Math.toIntExact((long) pairsPerSlice * batch * heads)];
        INDArray output = Nd4j.createUninitialized(q.dataType(), q.shape());
        HeadSlices qs = new HeadSlices(q, tq, headDim), ks = new HeadSlices(k, tk, headDim);
        HeadSlices vs = new HeadSlices(v, tk, headDim), os = new HeadSlices(output, tq, headDim);
        IntStream.range(0, batch * heads).parallel().forEach(slice -> {
            int b = slice / heads, h = slice % heads;
            double[] qa = qs.read(b, h), ka = ks.read(b, h), va = vs.read(b, h);
            double[] out = new double[qa.length];
            double[] scores = new double[tk];
            for (int t = 0; t < tq; t++) {
                int[] keys = neighbourhood.keysOf(t);
                int qBase = t * headDim;
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < keys.length; j++) {
                    double s = KernelMath.dot(qa, qBase, ka, keys[j] * headDim, headDim) * scale;
                    scores[j] = s;
                    max = Math.max(max, s);
                }
                double sum = 0;
                for (int j = 0; j < keys.length; j++) {
                    scores[j] = Math.exp(scores[j] - max);
                    sum += scores[j];
                }
                int pBase = slice * pairsPerSlice + (int) pairOffset[t];
                for (int j = 0; j < keys.length; j++) {
                    double p = scores[j] / sum;
                    probabilities[pBase + j] = p;
                    int vBase = keys[j] * headDim;
                    for (int d = 0; d < headDim; d++) {
                        out[qBase + d] += p * va[vBase + d];
                    }
                }
            }
            os.write(b, h, out);
        });
        return new Result(output, new WindowedCache(qs.matrix(), ks.matrix(), vs.matrix(), probabilities,
                pairOffset, neighbourhood, batch, heads));
    }

    /** The {@code [T, dh]} block of one head of one batch item in a token matrix {@code [B·T, H·dh]}. */
    private static final class HeadSlices {
        private final INDArray matrix;
        private final BufferAccess access;
        private final int tokens, headDim, dim;

        HeadSlices(INDArray matrix, int tokens, int headDim) {
            this.matrix = BufferAccess.dense(matrix);
            this.access = new BufferAccess(this.matrix);
            this.tokens = tokens;
            this.headDim = headDim;
            this.dim = (int) matrix.size(1);
        }

        INDArray matrix() {
            return matrix;
        }

        double[] read(int b, int h) {
            double[] block = new double[tokens * headDim];
            float[] scratch = BufferAccess.scratch(matrix.dataType(), headDim);
            for (int t = 0; t < tokens; t++) {
                access.read((long) (b * tokens + t) * dim + (long) h * headDim, block, t * headDim, headDim, scratch);
            }
            return block;
        }

        void write(int b, int h, double[] block) {
            float[] scratch = BufferAccess.scratch(matrix.dataType(), headDim);
            for (int t = 0; t < tokens; t++) {
                access.write((long) (b * tokens + t) * dim + (long) h * headDim, block, t * headDim, headDim, scratch);
            }
        }
    }

    // ------------------------------------------------------------------------------------- backward

    public static Gradients backward(INDArray dOut, Cache cache) {
        if (cache instanceof DenseCache c) {
            return denseBackward(dOut, c);
        }
        return windowedBackward(dOut, (WindowedCache) cache);
    }

    /** Backward of {@link #denseSelf}: @return dL/d(qkv), {@code [B·T, 3D]} in the packed layout. */
    public static INDArray backwardPacked(INDArray dOut, Cache cache) {
        return backwardPacked(dOut, cache, null);
    }

    /**
     * Backward of {@link #denseSelf(INDArray, int, int, INDArray)}: @return dL/d(qkv) in the packed layout, and
     * adds the gradient of the additive scores into {@code dAdditive [G, H, T, T]} unless it is null.
     */
    public static INDArray backwardPacked(INDArray dOut, Cache cache, INDArray dAdditive) {
        if (!(cache instanceof DenseCache c) || !java.util.Arrays.equals(c.q().shape(), c.k().shape())) {
            throw new IllegalArgumentException("backwardPacked needs the cache of a dense self-attention (denseSelf)");
        }
        INDArray d5 = Nd4j.createUninitialized(c.q().dataType(), 3, c.batch(), c.heads(), c.q().size(2),
                c.q().size(3));
        denseBackwardInto(dOut, c, d5.slice(0), d5.slice(1), d5.slice(2), dAdditive);
        long batch = c.batch(), tokens = c.q().size(2), heads = c.heads(), headDim = c.q().size(3);
        // [3, B, H, T, dh] → [B, T, 3, H, dh] → [B·T, 3D]
        return d5.permute(1, 3, 0, 2, 4).dup('c').reshape('c', batch * tokens, 3 * heads * headDim);
    }

    private static Gradients denseBackward(INDArray dOut, DenseCache c) {
        INDArray[] d = new INDArray[3];
        for (int i = 0; i < 3; i++) {
            d[i] = Nd4j.createUninitialized(c.q().dataType(), c.q().shape());
        }
        denseBackwardInto(dOut, c, d[0], d[1], d[2], null);
        return new Gradients(fromHeads(d[0]), fromHeads(d[1]), fromHeads(d[2]));
    }

    /**
     * Writes the head-major gradients of Q, K and V {@code [B,H,T,dh]} into the given arrays, and adds that of the
     * additive scores into {@code dAdditive} when it is not null.
     */
    private static void denseBackwardInto(INDArray dOut, DenseCache c, INDArray dQ, INDArray dK, INDArray dV,
                                          INDArray dAdditive) {
        double scale = 1.0 / Math.sqrt(c.q().size(3));
        INDArray dOut3 = slices(toHeads(dOut, c.batch(), c.heads()));
        INDArray p = c.probabilities();
        INDArray dP = Nd4j.matmul(dOut3, slices(c.v()), null, false, true, false);
        Nd4j.matmul(p, dOut3, slices(dV), true, false, false);
        // softmax backward, one fused pass per row: dS = P ⊙ (dP − Σ_k dP⊙P). ND4J's ops for it (product, row sum,
        // a materialised broadcast, subtract, product) made five passes and a copy.
        // scores = (scale·Q)·Kᵀ, so dQ = scale·dS·K and dK = dSᵀ·(scale·Q).
        int width = (int) p.size(2);
        ChunkedMap.mapInto(dP, width, (in, ds, scratch, n) -> {
            double[] g = in[0], prob = in[1];
            for (int from = 0; from < n; from += width) {
                int to = from + width;
                double dot = KernelMath.dot(g, from, prob, from, width);
                for (int j = from; j < to; j++) {
                    ds[j] = prob[j] * (g[j] - dot);
                }
            }
        }, dP, p);
        if (dAdditive != null) {
            // the additive scores enter unscaled, so their gradient is dS summed over the groups' batch items
            dAdditive.addi(dP.reshape('c', dP.length() / dAdditive.length(), dAdditive.length()).sum(0)
                    .reshape(dAdditive.shape()));
        }
        Nd4j.matmul(dP, slices(c.k()), slices(dQ), false, false, false).muli(scale);
        Nd4j.matmul(dP, slices(c.q()), slices(dK), true, false, false);
    }

    private static Gradients windowedBackward(INDArray dOut, WindowedCache c) {
        WindowNeighbourhood nb = c.neighbourhood();
        int tq = nb.queryTokens(), tk = nb.keyTokens(), heads = c.heads();
        int headDim = (int) c.q().size(1) / heads;
        double scale = 1.0 / Math.sqrt(headDim);
        double[] probabilities = c.probabilities();
        int pairsPerSlice = Math.toIntExact(c.pairOffset()[tq]);
        DataType type = c.q().dataType();
        INDArray dQuery = Nd4j.createUninitialized(type, c.q().shape());
        INDArray dKey = Nd4j.createUninitialized(type, c.k().shape());
        INDArray dValue = Nd4j.createUninitialized(type, c.v().shape());
        HeadSlices qs = new HeadSlices(c.q(), tq, headDim), ks = new HeadSlices(c.k(), tk, headDim);
        HeadSlices vs = new HeadSlices(c.v(), tk, headDim), gs = new HeadSlices(dOut, tq, headDim);
        HeadSlices dqs = new HeadSlices(dQuery, tq, headDim), dks = new HeadSlices(dKey, tk, headDim);
        HeadSlices dvs = new HeadSlices(dValue, tk, headDim);
        // Each (batch, head) slice reads and writes only its own blocks: no races.
        IntStream.range(0, c.batch() * heads).parallel().forEach(slice -> {
            int b = slice / heads, h = slice % heads;
            double[] qa = qs.read(b, h), ka = ks.read(b, h), va = vs.read(b, h), dO = gs.read(b, h);
            double[] dQ = new double[qa.length], dK = new double[ka.length], dV = new double[va.length];
            double[] dP = new double[tk];
            for (int t = 0; t < tq; t++) {
                int[] keys = nb.keysOf(t);
                int qBase = t * headDim;
                int pBase = slice * pairsPerSlice + (int) c.pairOffset()[t];
                double rowDot = 0;
                for (int j = 0; j < keys.length; j++) {
                    int vBase = keys[j] * headDim;
                    double p = probabilities[pBase + j];
                    double s = KernelMath.dot(dO, qBase, va, vBase, headDim);
                    for (int d = 0; d < headDim; d++) {
                        dV[vBase + d] += p * dO[qBase + d];
                    }
                    dP[j] = s;
                    rowDot += s * p;
                }
                for (int j = 0; j < keys.length; j++) {
                    double dS = probabilities[pBase + j] * (dP[j] - rowDot) * scale;
                    int kBase = keys[j] * headDim;
                    for (int d = 0; d < headDim; d++) {
                        dQ[qBase + d] += dS * ka[kBase + d];
                        dK[kBase + d] += dS * qa[qBase + d];
                    }
                }
            }
            dqs.write(b, h, dQ);
            dks.write(b, h, dK);
            dvs.write(b, h, dV);
        });
        return new Gradients(dQuery, dKey, dValue);
    }

    // -------------------------------------------------------------------------------------- layout

    /** {@code [B·T, D]} → {@code [B, H, T, D/H]} (contiguous). */
    static INDArray toHeads(INDArray x, int batch, int heads) {
        long tokens = x.size(0) / batch;
        long dim = x.size(1);
        return x.reshape('c', batch, tokens, heads, dim / heads).permute(0, 2, 1, 3).dup('c');
    }

    /** A contiguous {@code [B, H, T, dh]} as {@code [B·H, T, dh]} (a view: writes go through). */
    private static INDArray slices(INDArray x) {
        return x.reshape('c', x.size(0) * x.size(1), x.size(2), x.size(3));
    }

    /** {@code [B, H, T, dh]} → {@code [B·T, H·dh]}. */
    static INDArray fromHeads(INDArray x) {
        long batch = x.size(0), heads = x.size(1), tokens = x.size(2), headDim = x.size(3);
        return x.permute(0, 2, 1, 3).dup('c').reshape('c', batch * tokens, heads * headDim);
    }
}
