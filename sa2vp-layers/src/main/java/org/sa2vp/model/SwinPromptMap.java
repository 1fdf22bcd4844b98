package org.sa2vp.model;

import lombok.Data;
import lombok.EqualsAndHashCode;
import lombok.NoArgsConstructor;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDVertexParams;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.layers.ParameterInit;
import org.sa2vp.layers.SameDiffReference;
import org.sa2vp.layers.Sa2vpVertex;
import org.sa2vp.layers.runtime.SameDiffGradientFixVertex;

import java.util.Map;
import java.util.Set;

/**
 * The prompt map of SA2VP-Swin (the authors' {@code patch_embed.deep_ppt} and {@code proj_ppt},
 * {@code docs/AUTHORS-CODE.md} §2.2) on the first stage's token grid, broadcast over the batch:
 * <pre>
 *   P⁰ = LN_pe(promptFactors [T, r] · promptProjW [r, D] + promptProjB)      → [B, T, D]
 * </pre>
 * {@code LN_pe} is the frozen patch-embedding LayerNorm ({@code normGamma}, {@code normBeta}: a copy of the
 * checkpoint's {@code patch_embed.norm}, loaded with the backbone). No position embedding, no class slot. The input
 * is the image stream {@code [B, T, D]}, read only for its batch size (its gradient is zero).
 *
 * <p>Runs on SameDiff in both runtimes: a [T, r]·[r, D] product per batch, no dropout, nothing a kernel would speed up
 * measurably.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public class SwinPromptMap extends Sa2vpVertex {

    public static final String PROMPT_FACTORS = Sa2vpEmbedding.PROMPT_FACTORS;
    public static final String PROMPT_PROJ_W = Sa2vpEmbedding.PROMPT_PROJ_W;
    public static final String PROMPT_PROJ_B = Sa2vpEmbedding.PROMPT_PROJ_B;
    public static final String NORM_GAMMA = "normGamma";
    public static final String NORM_BETA = "normBeta";
    private static final String IMAGE = "image";
    private static final Set<String> PROMPT_PARAMS = Set.of(PROMPT_FACTORS, PROMPT_PROJ_W, PROMPT_PROJ_B);

    private int gridHeight;
    private int gridWidth;
    private int hiddenSize;
    private int promptRank = 8;
    /** ε of the patch-embedding LayerNorm (the backbone's). */
    private double layerNormEps = 1e-5;

    /**
     * @param gridHeight  rows of the first stage's token map
     * @param gridWidth   columns of the first stage's token map
     * @param hiddenSize  width D of the first stage
     * @param promptRank  rank r of the prompt map
     * @param layerNormEps ε of the backbone's patch-embedding LayerNorm
     */
    public SwinPromptMap(int gridHeight, int gridWidth, int hiddenSize, int promptRank, double layerNormEps) {
        this.gridHeight = gridHeight;
        this.gridWidth = gridWidth;
        this.hiddenSize = hiddenSize;
        this.promptRank = promptRank;
        this.layerNormEps = layerNormEps;
        validate();
    }

    /** Tokens of the map: {@code gridHeight·gridWidth}. */
    public long tokens() {
        return (long) gridHeight * gridWidth;
    }

    @Override
    public void validate() {
        require(gridHeight > 0 && gridWidth > 0, "grid", "a positive height × width", gridHeight + "x" + gridWidth);
        require(hiddenSize > 0, "hiddenSize", "> 0", hiddenSize);
        require(promptRank > 0, "promptRank", "> 0", promptRank);
        require(layerNormEps > 0, "layerNormEps", "> 0", layerNormEps);
    }

    @Override
    public boolean isBackboneParam(String param) {
        return !PROMPT_PARAMS.contains(param);
    }

    @Override
    public boolean usesDropout() {
        return false;
    }

    @Override
    public void defineParametersAndInputs(SDVertexParams params) {
        params.defineInputs(IMAGE);
        params.addWeightParam(PROMPT_FACTORS, tokens(), promptRank);
        params.addWeightParam(PROMPT_PROJ_W, promptRank, hiddenSize);
        params.addBiasParam(PROMPT_PROJ_B, 1, hiddenSize);
        params.addBiasParam(NORM_GAMMA, 1, hiddenSize);
        params.addBiasParam(NORM_BETA, 1, hiddenSize);
    }

    /** As the authors' Swin variant ends up: trunc-normal(0.02) factors and projection, zero bias (§2.1). */
    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        ParameterInit.truncatedNormal(params.get(PROMPT_FACTORS), 0.02);
        ParameterInit.truncatedNormal(params.get(PROMPT_PROJ_W), 0.02);
        params.get(PROMPT_PROJ_B).assign(0);
        ParameterInit.layerNorm(params.get(NORM_GAMMA), params.get(NORM_BETA));
    }

    @Override
    public SDVariable defineVertex(SameDiff sd, Map<String, SDVariable> inputs, Map<String, SDVariable> p,
                                   Map<String, SDVariable> masks) {
        SDVariable map = p.get(PROMPT_FACTORS).mmul(p.get(PROMPT_PROJ_W)).add(p.get(PROMPT_PROJ_B).reshape(-1));
        SDVariable normed = SameDiffReference.layerNorm(map, p.get(NORM_GAMMA), p.get(NORM_BETA), layerNormEps,
                tokens(), hiddenSize).reshape(tokens(), hiddenSize);
        return inputs.get(IMAGE).mul(0.0).add(normed);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType... inputs) {
        checkTokens(IMAGE, inputs[0], tokens(), hiddenSize);
        return inputs[0];
    }

    @Override
    public void validateInput(INDArray[] input) {
        checkTokens(IMAGE, input[0], tokens(), hiddenSize);
    }

    @Override
    public int minVertexInputs() {
        return 1;
    }

    @Override
    public int maxVertexInputs() {
        return 1;
    }

    @Override
    protected org.deeplearning4j.nn.graph.vertex.GraphVertex createFastVertex(ComputationGraph graph, String name,
                                                                              int idx, INDArray paramsView,
                                                                              boolean init, DataType dataType) {
        return new SameDiffGradientFixVertex(this, graph, name, idx, paramsView, init, dataType);
    }
}
