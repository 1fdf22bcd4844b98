package org.sa2vp.backbone.vit;

import lombok.Data;
import lombok.EqualsAndHashCode;
import lombok.NoArgsConstructor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.BackboneLayer;
import org.sa2vp.layers.BlockParameters;
import org.sa2vp.layers.runtime.AttentionWeights;
import org.sa2vp.layers.runtime.BlockWeights;
import org.sa2vp.layers.runtime.FastLayer;
import org.sa2vp.layers.runtime.TransformerBlockKernel;

import java.util.Arrays;
import java.util.Map;
import java.util.Set;

/**
 * One pre-LN ViT encoder block on token maps {@code [B, T, D]}
 * ({@code InputType.recurrent(D, T, RNNFormat.NWC)}):
 * <pre>
 *   x = x + out(MHSA(LN1(x)))                              (heads of D/H, scale 1/√(D/H))
 *   x = x + Dropout(fc2(Dropout(GELU(fc1(LN2(x))))))       (exact erf GELU, width M)
 * </pre>
 * Parameter names are {@link BlockWeights#NAMES} (x·W layouts), the same as in an SA2VP
 * {@link org.sa2vp.layers.DualPathwayVertex}, so block weights copy across verbatim.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public class TransformerBlock extends BackboneLayer {

    private static final Set<String> QKV_BIASES = Set.of(AttentionWeights.QUERY_B, AttentionWeights.KEY_B,
            AttentionWeights.VALUE_B);

    private int hiddenSize;
    private int numHeads;
    private int mlpSize;
    private double layerNormEps = 1e-6;
    /** Dropout after the GELU and after fc2 (the VPT ViT's {@code dropout_rate}); 0 for inference. */
    private double dropout;
    /** False for checkpoints without q/k/v biases: the biases then stay zero and never train. */
    private boolean qkvBias = true;

    private TransformerBlock(Builder b) {
        super(b);
        hiddenSize = b.hiddenSize;
        numHeads = b.numHeads;
        mlpSize = b.mlpSize;
        layerNormEps = b.layerNormEps;
        dropout = b.dropout;
        qkvBias = b.qkvBias;
        validate();
    }

    @Override
    public void validate() {
        require(hiddenSize > 0, "hiddenSize", "> 0", hiddenSize);
        require(numHeads > 0 && hiddenSize % numHeads == 0, "numHeads", "a divisor of hiddenSize " + hiddenSize,
                numHeads);
        require(mlpSize > 0, "mlpSize", "> 0", mlpSize);
        require(layerNormEps > 0, "layerNormEps", "> 0", layerNormEps);
        require(dropout >= 0 && dropout < 1, "dropout", "in [0, 1)", dropout);
    }

    @Override
    public boolean usesDropout() {
        return dropout > 0;
    }

    @Override
    public boolean isFixedParam(String param) {
        return !qkvBias && QKV_BIASES.contains(param);
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        BlockParameters.define(params, hiddenSize, mlpSize);
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        BlockParameters.initialize(params);
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, Map<String, SDVariable> p, SDVariable mask) {
        return BlockParameters.reference(input, p, numHeads, input.getShape()[1], hiddenSize, mlpSize,
                layerNormEps);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        if (!(inputType instanceof InputType.InputTypeRecurrent rnn) || rnn.getSize() != hiddenSize) {
            throw new IllegalArgumentException("TransformerBlock '" + getLayerName() + "': input must be token maps "
                    + "InputType.recurrent(" + hiddenSize + ", T, RNNFormat.NWC), got " + inputType);
        }
        return inputType;
    }

    @Override
    public void validateInput(INDArray input) {
        if (input.rank() != 3 || input.size(2) != hiddenSize) {
            throw new IllegalArgumentException("TransformerBlock '" + getLayerName() + "': input has shape "
                    + Arrays.toString(input.shape()) + ", expected [batch, tokens, " + hiddenSize + "]");
        }
    }

    @Override
    protected FastLayer createFastRuntime(NeuralNetConfiguration conf, DataType dataType) {
        return new FastRuntime(conf, dataType);
    }

    /** Hand-written runtime on {@link TransformerBlockKernel}. */
    static final class FastRuntime extends FastLayer {
        private TransformerBlockKernel.Cache cache;

        FastRuntime(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        private TransformerBlock config() {
            return (TransformerBlock) layerConf();
        }

        @Override
        protected INDArray forward(INDArray input, boolean training) {
            TransformerBlock c = config();
            c.validateInput(input);
            int batch = (int) input.size(0);
            TransformerBlockKernel.Result r = TransformerBlockKernel.forward(
                    input.reshape('c', batch * input.size(1), input.size(2)), BlockWeights.from(weights()),
                    c.getLayerNormEps(), c.getNumHeads(), batch, c.getDropout(), training,
                    training ? trainableGradients() : null);
            cache = r.cache();
            return r.output().reshape('c', input.shape());
        }

        @Override
        protected INDArray backward(INDArray epsilon) {
            INDArray dx = TransformerBlockKernel.backward(
                    epsilon.reshape('c', epsilon.size(0) * epsilon.size(1), epsilon.size(2)), cache,
                    BlockWeights.from(weights()), trainableGradients());
            return dx.reshape('c', epsilon.shape());
        }

        /** The gradient record with entries only for the parameters that train; null before gradients exist. */
        private BlockWeights trainableGradients() {
            Map<String, INDArray> trainable = config().trainableGradients(gradientViews());
            return trainable == null ? null : BlockWeights.from(trainable);
        }
    }

    /** Builder; defaults: LayerNorm eps 1e-6 (Google/VPT checkpoints), no dropout, qkv bias, frozen. */
    public static class Builder extends BackboneLayer.Builder<Builder> {
        private int hiddenSize;
        private int numHeads;
        private int mlpSize;
        private double layerNormEps = 1e-6;
        private double dropout;
        private boolean qkvBias = true;

        /** Token width D. */
        public Builder hiddenSize(int hiddenSize) {
            this.hiddenSize = hiddenSize;
            return this;
        }

        /** Attention heads H; a divisor of D. */
        public Builder numHeads(int numHeads) {
            this.numHeads = numHeads;
            return this;
        }

        /** Width M of the MLP's hidden layer. */
        public Builder mlpSize(int mlpSize) {
            this.mlpSize = mlpSize;
            return this;
        }

        /** ε of both LayerNorms; default 1e-6. */
        public Builder layerNormEps(double layerNormEps) {
            this.layerNormEps = layerNormEps;
            return this;
        }

        /** Dropout inside the MLP (after GELU and after fc2) while training; default 0. */
        public Builder dropout(double dropout) {
            this.dropout = dropout;
            return this;
        }

        /** Whether the query, key and value projections have biases; default true. */
        public Builder qkvBias(boolean qkvBias) {
            this.qkvBias = qkvBias;
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public TransformerBlock build() {
            return new TransformerBlock(this);
        }
    }
}
