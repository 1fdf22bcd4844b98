package org.sa2vp.layers;

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
import org.sa2vp.layers.runtime.AdapterActivation;
import org.sa2vp.layers.runtime.AdapterKernel;
import org.sa2vp.layers.runtime.AdapterWeights;
import org.sa2vp.layers.runtime.FastLayer;

import java.util.Arrays;
import java.util.Map;

/**
 * Prompt adapter (the authors' {@code ffn_norm} + {@code Mlp_small}): trainable
 * {@code LayerNorm → Linear(D→t) → activation → Linear(t→D)}, dropout after the activation and after the up
 * projection, no residual. Input and output {@code [B, T, D]} token maps
 * ({@code InputType.recurrent(D, T, RNNFormat.NWC)}).
 *
 * <p>Defaults are the authors' code: t = 16, exact (erf) GELU, LayerNorm eps 1e-6, dropout 0.1; Xavier-uniform
 * weights, N(0, 1e-6) biases, LayerNorm 1/0 ({@link Init#XAVIER}; their Swin variant: {@link Init#TRUNCATED_NORMAL}).
 * {@link AdapterActivation#RELU} is the paper's text.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public class PromptAdapter extends FastSameDiffLayer {

    /** How the adapter's weights start. */
    public enum Init {
        /** The authors' ViT code ({@code Mlp_small}): Xavier-uniform weights, N(0, 1e-6) biases. */
        XAVIER,
        /**
         * The authors' Swin code, whose model-wide {@code _init_weights} overwrites the adapters' own init:
         * trunc-normal(0.02) weights, zero biases.
         */
        TRUNCATED_NORMAL
    }

    private int hiddenSize;
    private int adapterSize = 16;
    private AdapterActivation activation = AdapterActivation.GELU;
    private double layerNormEps = 1e-6;
    private double dropout = 0.1;
    private Init init = Init.XAVIER;

    private PromptAdapter(Builder b) {
        super(b);
        hiddenSize = b.hiddenSize;
        adapterSize = b.adapterSize;
        activation = b.activation;
        layerNormEps = b.layerNormEps;
        dropout = b.dropout;
        init = b.init;
        validate();
    }

    @Override
    public void validate() {
        require(hiddenSize > 0, "hiddenSize", "> 0", hiddenSize);
        require(adapterSize > 0, "adapterSize", "> 0", adapterSize);
        require(activation != null, "activation", "GELU or RELU", activation);
        require(layerNormEps > 0, "layerNormEps", "> 0", layerNormEps);
        require(dropout >= 0 && dropout < 1, "dropout", "in [0, 1)", dropout);
        require(init != null, "init", "XAVIER or TRUNCATED_NORMAL", init);
    }

    @Override
    public boolean usesDropout() {
        return dropout > 0;
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        params.addBiasParam(AdapterWeights.NORM_GAMMA, 1, hiddenSize);
        params.addBiasParam(AdapterWeights.NORM_BETA, 1, hiddenSize);
        params.addWeightParam(AdapterWeights.DOWN_W, hiddenSize, adapterSize);
        params.addBiasParam(AdapterWeights.DOWN_B, 1, adapterSize);
        params.addWeightParam(AdapterWeights.UP_W, adapterSize, hiddenSize);
        params.addBiasParam(AdapterWeights.UP_B, 1, hiddenSize);
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        if (init == Init.XAVIER) {
            initAdapterParams(params, "");
            return;
        }
        ParameterInit.layerNorm(params.get(AdapterWeights.NORM_GAMMA), params.get(AdapterWeights.NORM_BETA));
        ParameterInit.truncatedNormal(params.get(AdapterWeights.DOWN_W), 0.02);
        ParameterInit.truncatedNormal(params.get(AdapterWeights.UP_W), 0.02);
        params.get(AdapterWeights.DOWN_B).assign(0);
        params.get(AdapterWeights.UP_B).assign(0);
    }

    /** The authors' init for an adapter whose parameter names carry {@code prefix}. */
    static void initAdapterParams(Map<String, INDArray> params, String prefix) {
        ParameterInit.layerNorm(params.get(AdapterWeights.name(prefix, AdapterWeights.NORM_GAMMA)),
                params.get(AdapterWeights.name(prefix, AdapterWeights.NORM_BETA)));
        ParameterInit.xavierUniform(params.get(AdapterWeights.name(prefix, AdapterWeights.DOWN_W)));
        ParameterInit.xavierUniform(params.get(AdapterWeights.name(prefix, AdapterWeights.UP_W)));
        ParameterInit.normal(params.get(AdapterWeights.name(prefix, AdapterWeights.DOWN_B)), 1e-6);
        ParameterInit.normal(params.get(AdapterWeights.name(prefix, AdapterWeights.UP_B)), 1e-6);
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, Map<String, SDVariable> p, SDVariable mask) {
        long tokens = input.getShape()[1];
        return SameDiffReference.adapter(input, p.get(AdapterWeights.NORM_GAMMA), p.get(AdapterWeights.NORM_BETA),
                p.get(AdapterWeights.DOWN_W), p.get(AdapterWeights.DOWN_B), p.get(AdapterWeights.UP_W),
                p.get(AdapterWeights.UP_B), activation, tokens, hiddenSize, adapterSize, layerNormEps);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        if (!(inputType instanceof InputType.InputTypeRecurrent rnn) || rnn.getSize() != hiddenSize) {
            throw new IllegalArgumentException("PromptAdapter: input must be token maps InputType.recurrent("
                    + hiddenSize + ", T, RNNFormat.NWC) (width = hiddenSize), got " + inputType);
        }
        return inputType;
    }

    @Override
    public void validateInput(INDArray input) {
        if (input.rank() != 3 || input.size(2) != hiddenSize) {
            throw new IllegalArgumentException("PromptAdapter: input has shape " + Arrays.toString(input.shape())
                    + ", expected [batch, tokens, " + hiddenSize + "] (width = hiddenSize)");
        }
    }

    @Override
    protected FastLayer createFastRuntime(NeuralNetConfiguration conf, DataType dataType) {
        return new FastRuntime(conf, dataType);
    }

    /** Hand-written runtime on {@link AdapterKernel}. */
    static final class FastRuntime extends FastLayer {
        private AdapterKernel.Cache cache;
        private long batch;

        FastRuntime(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        private PromptAdapter config() {
            return (PromptAdapter) layerConf();
        }

        @Override
        protected INDArray forward(INDArray input, boolean training) {
            PromptAdapter c = config();
            c.validateInput(input);
            batch = input.size(0);
            AdapterKernel.Result r = AdapterKernel.forward(input.reshape('c', batch * input.size(1), input.size(2)),
                    AdapterWeights.from(weights(), ""), c.getLayerNormEps(), c.getActivation(), c.getDropout(),
                    training);
            cache = r.cache();
            return r.output().reshape('c', batch, input.size(1), input.size(2));
        }

        @Override
        protected INDArray backward(INDArray epsilon) {
            INDArray eps2d = epsilon.reshape('c', epsilon.size(0) * epsilon.size(1), epsilon.size(2));
            INDArray dx = AdapterKernel.backward(eps2d, cache, AdapterWeights.from(weights(), ""),
                    AdapterWeights.from(gradientViews(), ""),
                    config().getActivation());
            return dx.reshape('c', epsilon.size(0), epsilon.size(1), epsilon.size(2));
        }
    }

    /** Builder with the authors' defaults. */
    public static class Builder extends FastSameDiffLayer.Builder<Builder> {
        private int hiddenSize;
        private int adapterSize = 16;
        private AdapterActivation activation = AdapterActivation.GELU;
        private double layerNormEps = 1e-6;
        private double dropout = 0.1;
        private Init init = Init.XAVIER;

        /** Token width D of input and output. */
        public Builder hiddenSize(int hiddenSize) {
            this.hiddenSize = hiddenSize;
            return this;
        }

        /** Bottleneck width t. */
        public Builder adapterSize(int adapterSize) {
            this.adapterSize = adapterSize;
            return this;
        }

        /** GELU (the authors' code, default) or ReLU (the paper's text). */
        public Builder activation(AdapterActivation activation) {
            this.activation = activation;
            return this;
        }

        /** ε of the LayerNorm before the down projection; default 1e-6. */
        public Builder layerNormEps(double layerNormEps) {
            this.layerNormEps = layerNormEps;
            return this;
        }

        /** Dropout after the activation and after the up projection; default 0.1. */
        public Builder dropout(double dropout) {
            this.dropout = dropout;
            return this;
        }

        /** How the weights start: {@link Init#XAVIER} (default, the authors' ViT) or their Swin's. */
        public Builder init(Init init) {
            this.init = init;
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public PromptAdapter build() {
            return new PromptAdapter(this);
        }
    }
}
