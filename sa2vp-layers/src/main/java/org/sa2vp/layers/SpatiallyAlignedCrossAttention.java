package org.sa2vp.layers;

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
import org.sa2vp.layers.runtime.AttentionWeights;
import org.sa2vp.layers.runtime.CrossAttentionKernel;
import org.sa2vp.layers.runtime.WindowNeighbourhood;

import java.util.Map;

/**
 * Spatially aligned cross attention (SA2VP Eq. 2, as the authors' {@code Cross_Block} attention computes it).
 *
 * <p>Inputs: {@code query [B, Tq, D]} (the stream being updated) and {@code keyValue [B, Tk, D]} (the
 * source stream), token maps laid out as {@link TokenGrid}s with an optional class token at index 0.
 * Output {@code [B, Tq, D]}:
 * <pre>
 *   Q = LN(query)·Wq + bq,  K = LN(keyValue)·Wk + bk,  V = LN(keyValue)·Wv + bv   (one LayerNorm for both)
 *   out = query + Dropout(concat_heads(softmax(Q·Kᵀ/√dh over the window)·V)·Wo + bo)
 * </pre>
 * The LayerNorm and projections are the frozen weights of the backbone layer the block sits in. Which keys
 * a query sees is {@link WindowNeighbourhood}'s rule: a {@code windowSize²} window centred at the aligned
 * position, clipped at the border (4/6/9 keys for c = 3), a global class-token query, or every key in
 * {@link AttentionMode#GLOBAL} mode. The fast runtime costs O(tokens·c²·D) and never forms a tokens×tokens
 * matrix in local mode.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public class SpatiallyAlignedCrossAttention extends Sa2vpVertex {

    public static final String QUERY = "query";
    public static final String KEY_VALUE = "keyValue";
    static final String NORM = "norm";

    private int hiddenSize;
    private int numHeads;
    private int windowSize = 3;
    private TokenGrid queryGrid;
    /** Null means the same grid as the query ("equal" prompt map). */
    private TokenGrid keyGrid;
    private boolean classToken = true;
    private AttentionMode mode = AttentionMode.LOCAL;
    private double layerNormEps = 1e-6;
    /** Dropout on the projected attention output (the authors hard-code 0.1). */
    private double dropout = 0.1;

    private SpatiallyAlignedCrossAttention(Builder b) {
        hiddenSize = b.hiddenSize;
        numHeads = b.numHeads;
        windowSize = b.windowSize;
        queryGrid = b.queryGrid;
        keyGrid = b.keyGrid;
        classToken = b.classToken;
        mode = b.mode;
        layerNormEps = b.layerNormEps;
        dropout = b.dropout;
        implementation = b.implementation;
        freezeBackboneWeights = b.freezeBackboneWeights;
        validate();
    }

    /** The key grid actually used: {@link #keyGrid}, or the query grid when none was set. */
    public TokenGrid effectiveKeyGrid() {
        return keyGrid == null ? queryGrid : keyGrid;
    }

    public WindowNeighbourhood neighbourhood() {
        return queryGrid.windowsOver(effectiveKeyGrid(), classToken, windowSize, mode);
    }

    @Override
    public void validate() {
        validateAttention(this, hiddenSize, numHeads, windowSize, layerNormEps);
        require(queryGrid != null && queryGrid.getHeight() > 0 && queryGrid.getWidth() > 0, "queryGrid",
                "a positive height × width", queryGrid);
        TokenGrid k = effectiveKeyGrid();
        require(k.getHeight() > 0 && k.getWidth() > 0, "keyGrid", "a positive height × width", k);
        require(dropout >= 0 && dropout < 1, "dropout", "in [0, 1)", dropout);
    }

    /** Checks shared by every configuration holding a multi-head attention. */
    static void validateAttention(Sa2vpVertex v, int hiddenSize, int numHeads, int windowSize, double eps) {
        v.require(hiddenSize > 0, "hiddenSize", "> 0", hiddenSize);
        v.require(numHeads > 0, "numHeads", "> 0", numHeads);
        v.require(hiddenSize % numHeads == 0, "numHeads", "a divisor of hiddenSize " + hiddenSize, numHeads);
        v.require(windowSize > 0 && windowSize % 2 == 1, "windowSize",
                "odd and positive (the window is centred on the aligned position)", windowSize);
        v.require(eps > 0, "layerNormEps", "> 0", eps);
    }

    @Override
    public boolean isBackboneParam(String param) {
        return true;
    }

    @Override
    public boolean usesDropout() {
        return dropout > 0;
    }

    @Override
    public void defineParametersAndInputs(SDVertexParams params) {
        params.defineInputs(QUERY, KEY_VALUE);
        defineAttentionParams(params, NORM, hiddenSize);
    }

    /** LayerNorm {@code <norm>Gamma/Beta [1,D]} and the four projections {@code [D,D]} + biases {@code [1,D]}. */
    static void defineAttentionParams(org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams params, String norm, long dim) {
        params.addBiasParam(norm + "Gamma", 1, dim);
        params.addBiasParam(norm + "Beta", 1, dim);
        for (String[] wb : new String[][]{{AttentionWeights.QUERY_W, AttentionWeights.QUERY_B},
                {AttentionWeights.KEY_W, AttentionWeights.KEY_B}, {AttentionWeights.VALUE_W, AttentionWeights.VALUE_B},
                {AttentionWeights.OUT_W, AttentionWeights.OUT_B}}) {
            params.addWeightParam(wb[0], dim, dim);
            params.addBiasParam(wb[1], 1, dim);
        }
    }

    /** Random stand-ins until backbone weights are copied in: LayerNorm 1/0, Xavier weights, zero biases. */
    static void initAttentionParams(Map<String, INDArray> params, String norm) {
        ParameterInit.layerNorm(params.get(norm + "Gamma"), params.get(norm + "Beta"));
        for (String w : new String[]{AttentionWeights.QUERY_W, AttentionWeights.KEY_W, AttentionWeights.VALUE_W,
                AttentionWeights.OUT_W}) {
            ParameterInit.xavierUniform(params.get(w));
        }
        for (String b : new String[]{AttentionWeights.QUERY_B, AttentionWeights.KEY_B, AttentionWeights.VALUE_B,
                AttentionWeights.OUT_B}) {
            params.get(b).assign(0);
        }
    }

    static SameDiffReference.AttentionParams attentionParams(Map<String, SDVariable> p, String norm) {
        return new SameDiffReference.AttentionParams(p.get(norm + "Gamma"), p.get(norm + "Beta"),
                p.get(AttentionWeights.QUERY_W), p.get(AttentionWeights.QUERY_B), p.get(AttentionWeights.KEY_W),
                p.get(AttentionWeights.KEY_B), p.get(AttentionWeights.VALUE_W), p.get(AttentionWeights.VALUE_B),
                p.get(AttentionWeights.OUT_W), p.get(AttentionWeights.OUT_B));
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        initAttentionParams(params, NORM);
    }

    @Override
    public SDVariable defineVertex(SameDiff sd, Map<String, SDVariable> inputs, Map<String, SDVariable> params,
                                   Map<String, SDVariable> masks) {
        WindowNeighbourhood nb = neighbourhood();
        SDVariable mask = sd.constant("windowMask", nb.additiveMask(dataType == null ? DataType.FLOAT : dataType));
        return SameDiffReference.crossAttention(inputs.get(QUERY), inputs.get(KEY_VALUE),
                attentionParams(params, NORM), numHeads, nb.queryTokens(), nb.keyTokens(), hiddenSize,
                layerNormEps, mask);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType... inputs) {
        checkTokens(QUERY, inputs[0], queryGrid.tokens(classToken), hiddenSize);
        checkTokens(KEY_VALUE, inputs[1], effectiveKeyGrid().tokens(classToken), hiddenSize);
        return inputs[0];
    }

    @Override
    public void validateInput(INDArray[] input) {
        checkTokens(QUERY, input[0], queryGrid.tokens(classToken), hiddenSize);
        checkTokens(KEY_VALUE, input[1], effectiveKeyGrid().tokens(classToken), hiddenSize);
    }

    @Override
    public int minVertexInputs() {
        return 2;
    }

    @Override
    public int maxVertexInputs() {
        return 2;
    }

    @Override
    protected org.deeplearning4j.nn.graph.vertex.GraphVertex createFastVertex(ComputationGraph graph, String name,
                                                                              int idx, INDArray paramsView,
                                                                              boolean init, DataType dataType) {
        return new FastRuntime(this, graph, name, idx, paramsView, init, dataType);
    }

    /** Hand-written runtime: {@link CrossAttentionKernel} with the windowed attention kernel. */
    static final class FastRuntime extends FastGraphVertex<SpatiallyAlignedCrossAttention> {
        private final WindowNeighbourhood neighbourhood;
        private CrossAttentionKernel.Cache cache;
        private long batch;

        FastRuntime(SpatiallyAlignedCrossAttention conf, ComputationGraph graph, String name, int idx, INDArray view,
                boolean init, DataType dataType) {
            super(conf, graph, name, idx, view, init, dataType);
            neighbourhood = conf.getMode() == AttentionMode.GLOBAL ? null : conf.neighbourhood();
        }

        @Override
        protected INDArray forward(INDArray[] in, boolean training) {
            batch = in[0].size(0);
            CrossAttentionKernel.Result r = CrossAttentionKernel.forward(tokens2d(in[0]), tokens2d(in[1]),
                    AttentionWeights.from(weights(), NORM), conf.getLayerNormEps(), conf.getNumHeads(), (int) batch,
                    neighbourhood, conf.getDropout(), training);
            cache = r.cache();
            return tokens3d(r.output(), batch);
        }

        @Override
        protected INDArray[] backward(INDArray epsilon) {
            AttentionWeights grads = AttentionWeights.from(trainableGradients(), NORM);
            CrossAttentionKernel.InputGradients g = CrossAttentionKernel.backward(tokens2d(epsilon), cache,
                    AttentionWeights.from(weights(), NORM), grads);
            return new INDArray[]{tokens3d(g.query(), batch), tokens3d(g.keyValue(), batch)};
        }
    }

    /** Builder with the authors' defaults: window 3, class token, local mode, LayerNorm eps 1e-6, dropout 0.1. */
    public static class Builder {
        private int hiddenSize;
        private int numHeads;
        private int windowSize = 3;
        private TokenGrid queryGrid;
        private TokenGrid keyGrid;
        private boolean classToken = true;
        private AttentionMode mode = AttentionMode.LOCAL;
        private double layerNormEps = 1e-6;
        private double dropout = 0.1;
        private Implementation implementation = Implementation.FAST;
        private boolean freezeBackboneWeights = true;

        /** Token width D of queries and keys. */
        public Builder hiddenSize(int hiddenSize) {
            this.hiddenSize = hiddenSize;
            return this;
        }

        /** Attention heads; a divisor of {@code hiddenSize}. */
        public Builder numHeads(int numHeads) {
            this.numHeads = numHeads;
            return this;
        }

        /** Side c of the c×c window (odd). */
        public Builder windowSize(int windowSize) {
            this.windowSize = windowSize;
            return this;
        }

        /** Patch grid of the query map; required. The key map has the same grid unless {@link #keyGrid} is set. */
        public Builder queryGrid(int height, int width) {
            this.queryGrid = TokenGrid.of(height, width);
            return this;
        }

        /** Grid of the key/value map when it differs from the query's ("scaled" prompt maps). */
        public Builder keyGrid(int height, int width) {
            this.keyGrid = TokenGrid.of(height, width);
            return this;
        }

        /** Whether both maps have a class token at index 0 (it queries every key); default true. */
        public Builder classToken(boolean classToken) {
            this.classToken = classToken;
            return this;
        }

        /** {@code LOCAL} (aligned c×c windows, default) or {@code GLOBAL} (every key: the ablation). */
        public Builder mode(AttentionMode mode) {
            this.mode = mode;
            return this;
        }

        /** ε of the LayerNorm applied to queries and keys; default 1e-6. */
        public Builder layerNormEps(double layerNormEps) {
            this.layerNormEps = layerNormEps;
            return this;
        }

        /** Dropout on the output projection; default 0.1. */
        public Builder dropout(double dropout) {
            this.dropout = dropout;
            return this;
        }

        /** Runtime of forward and backward: {@code FAST} (default) or the {@code SAMEDIFF} reference. */
        public Builder implementation(Implementation implementation) {
            this.implementation = implementation;
            return this;
        }

        /** True (default): the LayerNorm and projection weights (backbone copies) are frozen; false trains them. */
        public Builder freezeBackboneWeights(boolean freeze) {
            this.freezeBackboneWeights = freeze;
            return this;
        }

        public SpatiallyAlignedCrossAttention build() {
            return new SpatiallyAlignedCrossAttention(this);
        }
    }
}
