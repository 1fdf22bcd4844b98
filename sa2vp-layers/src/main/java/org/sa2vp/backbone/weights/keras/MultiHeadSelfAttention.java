package org.sa2vp.backbone.weights.keras;

import lombok.Data;
import lombok.EqualsAndHashCode;
import lombok.NoArgsConstructor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.layers.Implementation;
import org.sa2vp.layers.ParameterInit;
import org.sa2vp.layers.runtime.DropoutKernel;
import org.sa2vp.layers.runtime.FastLayer;
import org.sa2vp.layers.runtime.LinearKernel;

import java.util.Arrays;
import java.util.Map;

/**
 * Keras {@code MultiHeadAttention} called as self-attention, {@code mha(x, x)}, on a token map {@code [B, T, D]}:
 * {@code out = concat_h(softmax(Q_h·K_hᵀ/√dk)·V_h)·Wo + bo} with {@code Q = x·Wq + bq}, {@code K = x·Wk + bk},
 * {@code V = x·Wv + bv}.
 *
 * <p>Parameters are Keras's kernels flattened over the heads: {@code queryW, keyW [D, H·dk]},
 * {@code valueW [D, H·dv]}, {@code outputW [H·dv, Dout]} (Keras {@code [D, H, dk]} and {@code [H, dv, Dout]} in
 * C order, so head h owns columns {@code h·dk … h·dk+dk−1}); biases {@code [1, H·dk]}, {@code [1, H·dv]},
 * {@code [1, Dout]}, absent when {@code useBias} is false. Dout defaults to D.
 *
 * <p>{@code attentionDropout} is Keras's {@code dropout}: inverted dropout on the attention probabilities, in
 * training only, in the FAST runtime (the SAMEDIFF reference computes the evaluation function and refuses it).
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public class MultiHeadSelfAttention extends ImportedTokenLayer {

    public static final String QUERY_W = "queryW";
    public static final String QUERY_B = "queryB";
    public static final String KEY_W = "keyW";
    public static final String KEY_B = "keyB";
    public static final String VALUE_W = "valueW";
    public static final String VALUE_B = "valueB";
    public static final String OUTPUT_W = "outputW";
    public static final String OUTPUT_B = "outputB";

    private long hiddenSize;
    private int numHeads;
    private int keyDim;
    private int valueDim;
    private long outputSize;
    private boolean useBias = true;
    private double attentionDropout;

    private MultiHeadSelfAttention(Builder builder) {
        super(builder);
        hiddenSize = builder.hiddenSize;
        numHeads = builder.numHeads;
        keyDim = builder.keyDim;
        valueDim = builder.valueDim > 0 ? builder.valueDim : builder.keyDim;
        outputSize = builder.outputSize;
        useBias = builder.useBias;
        attentionDropout = builder.attentionDropout;
        validate();
    }

    @Override
    public void validate() {
        require(hiddenSize >= 0, "hiddenSize", ">= 0 (0: from the input type)", hiddenSize);
        require(numHeads > 0, "numHeads", "> 0", numHeads);
        require(keyDim > 0, "keyDim", "> 0", keyDim);
        require(valueDim > 0, "valueDim", "> 0", valueDim);
        require(outputSize >= 0, "outputSize", ">= 0 (0: hiddenSize)", outputSize);
        require(attentionDropout >= 0 && attentionDropout < 1, "attentionDropout", "in [0, 1)", attentionDropout);
        require(getImplementation() != Implementation.SAMEDIFF || attentionDropout == 0, "attentionDropout",
                "0 with implementation SAMEDIFF (DL4J M2.1 does not pass the training flag to SameDiff layers)",
                attentionDropout);
    }

    @Override
    protected void requireSizes() {
        require(hiddenSize > 0, "hiddenSize", "> 0 (set it or give the layer an input type)", hiddenSize);
    }

    /** Width of the output tokens: {@code outputSize}, or D when it is 0. */
    public long outputWidth() {
        return outputSize > 0 ? outputSize : hiddenSize;
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        long queryWidth = (long) numHeads * keyDim;
        long valueWidth = (long) numHeads * valueDim;
        params.addWeightParam(QUERY_W, hiddenSize, queryWidth);
        params.addWeightParam(KEY_W, hiddenSize, queryWidth);
        params.addWeightParam(VALUE_W, hiddenSize, valueWidth);
        params.addWeightParam(OUTPUT_W, valueWidth, outputWidth());
        if (useBias) {
            params.addBiasParam(QUERY_B, 1, queryWidth);
            params.addBiasParam(KEY_B, 1, queryWidth);
            params.addBiasParam(VALUE_B, 1, valueWidth);
            params.addBiasParam(OUTPUT_B, 1, outputWidth());
        }
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        for (String weight : new String[]{QUERY_W, KEY_W, VALUE_W, OUTPUT_W}) {
            ParameterInit.xavierUniform(params.get(weight));
        }
        if (useBias) {
            for (String bias : new String[]{QUERY_B, KEY_B, VALUE_B, OUTPUT_B}) {
                params.get(bias).assign(0.0);
            }
        }
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, Map<String, SDVariable> params, SDVariable mask) {
        long tokens = input.getShape()[1];
        SDVariable x = input.reshape(-1, hiddenSize);
        SDVariable q = TokenSameDiff.linear(x, params.get(QUERY_W), params.get(QUERY_B));
        SDVariable k = TokenSameDiff.linear(x, params.get(KEY_W), params.get(KEY_B));
        SDVariable v = TokenSameDiff.linear(x, params.get(VALUE_W), params.get(VALUE_B));
        SDVariable context = TokenSameDiff.attention(q, k, v, numHeads, tokens, keyDim, valueDim);
        return TokenSameDiff.linear(context, params.get(OUTPUT_W), params.get(OUTPUT_B))
                .reshape(-1, tokens, outputWidth());
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        if (hiddenSize <= 0 || override) {
            hiddenSize = tokenMap(inputType).getSize();
        }
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        InputType.InputTypeRecurrent tokens = tokenMap(inputType);
        require(tokens.getSize() == hiddenSize, "input width", "hiddenSize " + hiddenSize, tokens.getSize());
        return InputType.recurrent(outputWidth(), tokens.getTimeSeriesLength(), RNNFormat.NWC);
    }

    @Override
    public void validateInput(INDArray input) {
        if (input.rank() != 3 || input.size(2) != hiddenSize) {
            throw new IllegalArgumentException("MultiHeadSelfAttention '" + getLayerName() + "': input has shape "
                    + Arrays.toString(input.shape()) + ", expected [batch, tokens, " + hiddenSize + "]");
        }
    }

    @Override
    protected FastLayer createFastRuntime(NeuralNetConfiguration conf, DataType dataType) {
        return new FastRuntime(conf, dataType);
    }

    /**
     * Projections on {@link LinearKernel}, dense attention with batched GEMMs over {@code [B, H, T, d]} and a
     * hand-written softmax backward; keeps the weight gradients of every projection.
     */
    static final class FastRuntime extends FastLayer {
        private INDArray tokens;
        private INDArray query;
        private INDArray key;
        private INDArray value;
        private INDArray probabilities;
        private INDArray dropoutMask;
        private INDArray context;
        private long batch;
        private long length;

        FastRuntime(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        private MultiHeadSelfAttention config() {
            return (MultiHeadSelfAttention) layerConf();
        }

        @Override
        protected INDArray forward(INDArray input, boolean training) {
            MultiHeadSelfAttention c = config();
            c.validateInput(input);
            Map<String, INDArray> w = weights();
            batch = input.size(0);
            length = input.size(1);
            tokens = input.reshape('c', batch * length, input.size(2));
            query = toHeads(LinearKernel.forward(tokens, w.get(QUERY_W), w.get(QUERY_B)), c.getKeyDim());
            key = toHeads(LinearKernel.forward(tokens, w.get(KEY_W), w.get(KEY_B)), c.getKeyDim());
            value = toHeads(LinearKernel.forward(tokens, w.get(VALUE_W), w.get(VALUE_B)), c.getValueDim());
            INDArray scores = Nd4j.matmul(query, key, null, false, true, false).muli(scale());
            probabilities = Nd4j.exec(new SoftMax(scores, scores, 3))[0];
            dropoutMask = DropoutKernel.mask(probabilities, c.getAttentionDropout(), training);
            INDArray attended = dropoutMask == null ? probabilities : probabilities.mul(dropoutMask);
            context = fromHeads(Nd4j.matmul(attended, value));
            INDArray out = LinearKernel.forward(context, w.get(OUTPUT_W), w.get(OUTPUT_B));
            return out.reshape('c', batch, length, c.outputWidth());
        }

        @Override
        protected INDArray backward(INDArray epsilon) {
            MultiHeadSelfAttention c = config();
            Map<String, INDArray> w = weights();
            Map<String, INDArray> g = gradientViews();
            INDArray dOut = epsilon.reshape('c', batch * length, epsilon.size(2));
            INDArray dContext = toHeads(LinearKernel.backward(dOut, context, w.get(OUTPUT_W), g.get(OUTPUT_W),
                    g.get(OUTPUT_B), true), c.getValueDim());
            INDArray attended = dropoutMask == null ? probabilities : probabilities.mul(dropoutMask);
            INDArray dValue = Nd4j.matmul(attended, dContext, null, true, false, false);
            INDArray dProbabilities = Nd4j.matmul(dContext, value, null, false, true, false);
            DropoutKernel.apply(dProbabilities, dropoutMask);
            // softmax backward: dS = P ⊙ (dP − Σ_k dP ⊙ P), then the 1/√dk scale of the scores
            INDArray rowDot = dProbabilities.mul(probabilities).sum(true, 3);
            INDArray dScores = dProbabilities.subi(rowDot.broadcast(dProbabilities.shape())).muli(probabilities)
                    .muli(scale());
            INDArray dQuery = fromHeads(Nd4j.matmul(dScores, key));
            INDArray dKey = fromHeads(Nd4j.matmul(dScores, query, null, true, false, false));
            INDArray dTokens = LinearKernel.backward(dQuery, tokens, w.get(QUERY_W), g.get(QUERY_W), g.get(QUERY_B),
                    true);
            dTokens.addi(LinearKernel.backward(dKey, tokens, w.get(KEY_W), g.get(KEY_W), g.get(KEY_B), true));
            dTokens.addi(LinearKernel.backward(fromHeads(dValue), tokens, w.get(VALUE_W), g.get(VALUE_W),
                    g.get(VALUE_B), true));
            return dTokens.reshape('c', batch, length, c.getHiddenSize());
        }

        private double scale() {
            return 1.0 / Math.sqrt(config().getKeyDim());
        }

        /** {@code [B·T, H·d]} → {@code [B, H, T, d]} (contiguous). */
        private INDArray toHeads(INDArray x, int depth) {
            return x.reshape('c', batch, length, config().getNumHeads(), depth).permute(0, 2, 1, 3).dup('c');
        }

        /** {@code [B, H, T, d]} → {@code [B·T, H·d]}. */
        private INDArray fromHeads(INDArray x) {
            return x.permute(0, 2, 1, 3).dup('c').reshape('c', batch * length, x.size(1) * x.size(3));
        }
    }

    /** Builder; {@code hiddenSize} may be left to {@link #setNIn} from the input type. */
    public static class Builder extends ImportedTokenLayer.Builder<Builder> {
        private long hiddenSize;
        private int numHeads;
        private int keyDim;
        private int valueDim;
        private long outputSize;
        private boolean useBias = true;
        private double attentionDropout;

        /** Input token width D; left at 0, it is taken from the input type. */
        public Builder hiddenSize(long hiddenSize) {
            this.hiddenSize = hiddenSize;
            return this;
        }

        /** Attention heads H (Keras {@code num_heads}). */
        public Builder numHeads(int numHeads) {
            this.numHeads = numHeads;
            return this;
        }

        /** Per-head width of queries and keys (Keras {@code key_dim}). */
        public Builder keyDim(int keyDim) {
            this.keyDim = keyDim;
            return this;
        }

        /** Per-head width of values (Keras {@code value_dim}); 0 means keyDim. */
        public Builder valueDim(int valueDim) {
            this.valueDim = valueDim;
            return this;
        }

        /** Output token width (Keras {@code output_shape}); 0 means the input width. */
        public Builder outputSize(long outputSize) {
            this.outputSize = outputSize;
            return this;
        }

        /** Whether the four projections have biases (Keras {@code use_bias}); default true. */
        public Builder useBias(boolean useBias) {
            this.useBias = useBias;
            return this;
        }

        /** Dropout on the attention probabilities while training (Keras {@code dropout}); default 0. */
        public Builder attentionDropout(double attentionDropout) {
            this.attentionDropout = attentionDropout;
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public MultiHeadSelfAttention build() {
            return new MultiHeadSelfAttention(this);
        }
    }
}
