package org.sa2vp.layers.runtime;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Spatially aligned cross attention, forward and backward, on token matrices:
 * <pre>
 *   Q = LN(q)·Wq + bq,  K = LN(kv)·Wk + bk,  V = LN(kv)·Wv + bv      (one LayerNorm for both streams)
 *   out = q + Dropout(concat_heads(attention(Q, K, V))·Wo + bo)       (residual with the raw query)
 * </pre>
 * q is {@code [B·Tq, D]}, kv {@code [B·Tk, D]}. A null neighbourhood means global attention.
 */
public final class CrossAttentionKernel {

    private CrossAttentionKernel() {
    }

    /** Forward state for {@link #backward}. */
    public record Cache(LayerNormKernel.Cache queryNorm, LayerNormKernel.Cache keyNorm, INDArray queryNormed,
                        INDArray keyNormed, AttentionKernel.Cache attention, INDArray attended,
                        INDArray dropoutMask) {
    }

    /** The output {@code query + Dropout(out(attention))}, shaped as the query, and the state {@link #backward} needs. */
    public record Result(INDArray output, Cache cache) {
    }

    /** Gradients of both input streams. */
    public record InputGradients(INDArray query, INDArray keyValue) {
    }

    public static Result forward(INDArray query, INDArray keyValue, AttentionWeights w, double eps, int heads,
                                 int batch, WindowNeighbourhood neighbourhood, double dropout, boolean training) {
        LayerNormKernel.Cache[] qn = new LayerNormKernel.Cache[1];
        LayerNormKernel.Cache[] kn = new LayerNormKernel.Cache[1];
        INDArray queryNormed = LayerNormKernel.forward(query, w.normGamma(), w.normBeta(), eps, qn);
        INDArray keyNormed = LayerNormKernel.forward(keyValue, w.normGamma(), w.normBeta(), eps, kn);
        INDArray q = LinearKernel.forward(queryNormed, w.queryW(), w.queryB());
        INDArray k = LinearKernel.forward(keyNormed, w.keyW(), w.keyB());
        INDArray v = LinearKernel.forward(keyNormed, w.valueW(), w.valueB());
        AttentionKernel.Result attention = neighbourhood == null
                ? AttentionKernel.dense(q, k, v, batch, heads)
                : AttentionKernel.windowed(q, k, v, batch, heads, neighbourhood);
        INDArray projected = LinearKernel.forward(attention.output(), w.outW(), w.outB());
        INDArray mask = DropoutKernel.mask(projected, dropout, training);
        INDArray out = DropoutKernel.apply(projected, mask).addi(query);
        return new Result(out, new Cache(qn[0], kn[0], queryNormed, keyNormed, attention.cache(),
                attention.output(), mask));
    }

    /**
     * @param g gradient accumulators; null entries (or a null record) for frozen weights
     */
    public static InputGradients backward(INDArray dOut, Cache c, AttentionWeights w, AttentionWeights g) {
        AttentionWeights grads = g == null ? AttentionWeights.FROZEN : g;
        INDArray dProjected = c.dropoutMask() == null ? dOut : dOut.mul(c.dropoutMask());
        INDArray dAttended = LinearKernel.backward(dProjected, c.attended(), w.outW(), grads.outW(),
                grads.outB(), true);
        AttentionKernel.Gradients da = AttentionKernel.backward(dAttended, c.attention());
        INDArray dQueryNormed = LinearKernel.backward(da.query(), c.queryNormed(), w.queryW(), grads.queryW(),
                grads.queryB(), true);
        INDArray dKeyNormed = LinearKernel.backward(da.key(), c.keyNormed(), w.keyW(), grads.keyW(),
                grads.keyB(), true);
        dKeyNormed.addi(LinearKernel.backward(da.value(), c.keyNormed(), w.valueW(), grads.valueW(),
                grads.valueB(), true));
        INDArray dQuery = LayerNormKernel.backward(dQueryNormed, c.queryNorm(), w.normGamma(),
                grads.normGamma(), grads.normBeta()).addi(dOut);
        INDArray dKeyValue = LayerNormKernel.backward(dKeyNormed, c.keyNorm(), w.normGamma(),
                grads.normGamma(), grads.normBeta());
        return new InputGradients(dQuery, dKeyValue);
    }
}
