package org.sa2vp.layers.runtime;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/**
 * The pre-attention LayerNorm and the four projections of a multi-head attention. Weights are
 * {@code [in, out]} (x·W), biases and LayerNorm vectors {@code [1, D]}. Used both for the weights and for
 * their gradients; a null gradient entry means "frozen, do not compute".
 */
public record AttentionWeights(INDArray normGamma, INDArray normBeta,
                               INDArray queryW, INDArray queryB, INDArray keyW, INDArray keyB,
                               INDArray valueW, INDArray valueB, INDArray outW, INDArray outB) {

    public static final String NORM_GAMMA = "normGamma";
    public static final String NORM_BETA = "normBeta";
    public static final String QUERY_W = "queryW";
    public static final String QUERY_B = "queryB";
    public static final String KEY_W = "keyW";
    public static final String KEY_B = "keyB";
    public static final String VALUE_W = "valueW";
    public static final String VALUE_B = "valueB";
    public static final String OUT_W = "outW";
    public static final String OUT_B = "outB";

    /** The ten parameter names in parameter-vector order. */
    public static final String[] NAMES = {NORM_GAMMA, NORM_BETA, QUERY_W, QUERY_B, KEY_W, KEY_B, VALUE_W,
            VALUE_B, OUT_W, OUT_B};

    /** Gradient record of frozen attention weights: nothing is accumulated. */
    public static final AttentionWeights FROZEN = new AttentionWeights(null, null, null, null, null, null, null,
            null, null, null);

    /** Reads {@code <normName>Gamma/Beta} and the projections from a parameter or gradient table. */
    public static AttentionWeights from(Map<String, INDArray> table, String normName) {
        return new AttentionWeights(table.get(normName + "Gamma"), table.get(normName + "Beta"),
                table.get(QUERY_W), table.get(QUERY_B), table.get(KEY_W), table.get(KEY_B),
                table.get(VALUE_W), table.get(VALUE_B), table.get(OUT_W), table.get(OUT_B));
    }
}
