package org.sa2vp.layers;

import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.layers.runtime.BlockWeights;

import java.util.Map;

/**
 * The parameters of one pre-LN ViT encoder block as they appear in a DL4J parameter table (names in
 * {@link BlockWeights#NAMES}): LayerNorm vectors and biases {@code [1, D]} or {@code [1, M]}, projections
 * {@code [D, D]}, {@code fc1 [D, M]}, {@code fc2 [M, D]} (x·W layout). Shared by every layer or vertex that holds
 * a block, so that a backbone block and an SA2VP dual-pathway block address their weights identically.
 */
public final class BlockParameters {

    private BlockParameters() {
    }

    public static void define(SDLayerParams params, long hiddenSize, long mlpSize) {
        SpatiallyAlignedCrossAttention.defineAttentionParams(params, BlockWeights.NORM1, hiddenSize);
        params.addBiasParam(BlockWeights.NORM2_GAMMA, 1, hiddenSize);
        params.addBiasParam(BlockWeights.NORM2_BETA, 1, hiddenSize);
        params.addWeightParam(BlockWeights.FC1_W, hiddenSize, mlpSize);
        params.addBiasParam(BlockWeights.FC1_B, 1, mlpSize);
        params.addWeightParam(BlockWeights.FC2_W, mlpSize, hiddenSize);
        params.addBiasParam(BlockWeights.FC2_B, 1, hiddenSize);
    }

    /** Random stand-ins until checkpoint weights are copied in: LayerNorms 1/0, Xavier weights, zero biases. */
    public static void initialize(Map<String, INDArray> params) {
        SpatiallyAlignedCrossAttention.initAttentionParams(params, BlockWeights.NORM1);
        ParameterInit.layerNorm(params.get(BlockWeights.NORM2_GAMMA), params.get(BlockWeights.NORM2_BETA));
        ParameterInit.xavierUniform(params.get(BlockWeights.FC1_W));
        ParameterInit.xavierUniform(params.get(BlockWeights.FC2_W));
        params.get(BlockWeights.FC1_B).assign(0);
        params.get(BlockWeights.FC2_B).assign(0);
    }

    /** The SameDiff reference of the block on {@code x [B, tokens, D]}. */
    public static SDVariable reference(SDVariable x, Map<String, SDVariable> p, int heads, long tokens,
                                       long hiddenSize, long mlpSize, double eps) {
        return SameDiffReference.block(x, SpatiallyAlignedCrossAttention.attentionParams(p, BlockWeights.NORM1),
                p.get(BlockWeights.NORM2_GAMMA), p.get(BlockWeights.NORM2_BETA), p.get(BlockWeights.FC1_W),
                p.get(BlockWeights.FC1_B), p.get(BlockWeights.FC2_W), p.get(BlockWeights.FC2_B), heads, tokens,
                hiddenSize, mlpSize, eps);
    }
}
