package org.sa2vp.layers.runtime;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/**
 * One pre-LN ViT block (or their gradients): {@code norm1} + attention projections, {@code norm2},
 * {@code fc1 [D,M]}, {@code fc2 [M,D]}. Names in a parameter table: {@code norm1Gamma, norm1Beta, queryW, ..,
 * outW, outB, norm2Gamma, norm2Beta, fc1W, fc1B, fc2W, fc2B}.
 */
public record BlockWeights(AttentionWeights attention, INDArray norm2Gamma, INDArray norm2Beta,
                           INDArray fc1W, INDArray fc1B, INDArray fc2W, INDArray fc2B) {

    public static final String NORM1 = "norm1";
    public static final String NORM2_GAMMA = "norm2Gamma";
    public static final String NORM2_BETA = "norm2Beta";
    public static final String FC1_W = "fc1W";
    public static final String FC1_B = "fc1B";
    public static final String FC2_W = "fc2W";
    public static final String FC2_B = "fc2B";

    /** All block parameter names, in parameter-vector order. */
    public static final String[] NAMES = {NORM1 + "Gamma", NORM1 + "Beta", AttentionWeights.QUERY_W,
            AttentionWeights.QUERY_B, AttentionWeights.KEY_W, AttentionWeights.KEY_B, AttentionWeights.VALUE_W,
            AttentionWeights.VALUE_B, AttentionWeights.OUT_W, AttentionWeights.OUT_B, NORM2_GAMMA, NORM2_BETA,
            FC1_W, FC1_B, FC2_W, FC2_B};

    /** Gradient record of a frozen block: nothing is accumulated. */
    public static final BlockWeights FROZEN = new BlockWeights(AttentionWeights.FROZEN, null, null, null, null,
            null, null);

    public static BlockWeights from(Map<String, INDArray> table) {
        return new BlockWeights(AttentionWeights.from(table, NORM1), table.get(NORM2_GAMMA),
                table.get(NORM2_BETA), table.get(FC1_W), table.get(FC1_B), table.get(FC2_W), table.get(FC2_B));
    }
}
