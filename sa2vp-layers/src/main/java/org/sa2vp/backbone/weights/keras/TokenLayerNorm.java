package org.sa2vp.backbone.weights.keras;

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
import org.sa2vp.layers.ParameterInit;
import org.sa2vp.layers.runtime.FastLayer;
import org.sa2vp.layers.runtime.LayerNormKernel;

import java.util.Arrays;
import java.util.Map;

/**
 * LayerNorm over the channel axis of a token map {@code [B, T, D]} with epsilon (Keras
 * {@code LayerNormalization(axis=-1)}): {@code gamma ⊙ (x − μ)/√(σ² + eps) + beta}, gamma and beta {@code [1, D]}.
 *
 * <p>DL4J M2.1 has no LayerNorm layer, and {@code sd.nn().layerNorm} ignores epsilon, which ViT checkpoints need
 * (1e-6). The FAST runtime is {@link LayerNormKernel} on the {@code [B·T, D]} token matrix.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public class TokenLayerNorm extends ImportedTokenLayer {

    public static final String GAMMA = "gamma";
    public static final String BETA = "beta";

    private long hiddenSize;
    private double epsilon = 1e-6;

    private TokenLayerNorm(Builder builder) {
        super(builder);
        hiddenSize = builder.hiddenSize;
        epsilon = builder.epsilon;
        validate();
    }

    @Override
    public void validate() {
        require(hiddenSize >= 0, "hiddenSize", ">= 0 (0: from the input type)", hiddenSize);
        require(epsilon >= 0, "epsilon", ">= 0", epsilon);
    }

    @Override
    protected void requireSizes() {
        require(hiddenSize > 0, "hiddenSize", "> 0 (set it or give the layer an input type)", hiddenSize);
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        params.addBiasParam(GAMMA, 1, hiddenSize);
        params.addBiasParam(BETA, 1, hiddenSize);
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        ParameterInit.layerNorm(params.get(GAMMA), params.get(BETA));
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, Map<String, SDVariable> params, SDVariable mask) {
        long tokens = input.getShape()[1];
        return TokenSameDiff.layerNorm(input.reshape(-1, hiddenSize), params.get(GAMMA), params.get(BETA), epsilon,
                hiddenSize).reshape(-1, tokens, hiddenSize);
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
        return inputType;
    }

    @Override
    public void validateInput(INDArray input) {
        if (input.rank() != 3 || input.size(2) != hiddenSize) {
            throw new IllegalArgumentException("TokenLayerNorm '" + getLayerName() + "': input has shape "
                    + Arrays.toString(input.shape()) + ", expected [batch, tokens, " + hiddenSize + "]");
        }
    }

    @Override
    protected FastLayer createFastRuntime(NeuralNetConfiguration conf, DataType dataType) {
        return new FastRuntime(conf, dataType);
    }

    /** {@link LayerNormKernel} on the token matrix. */
    static final class FastRuntime extends FastLayer {
        private LayerNormKernel.Cache cache;

        FastRuntime(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        @Override
        protected INDArray forward(INDArray input, boolean training) {
            TokenLayerNorm config = (TokenLayerNorm) layerConf();
            config.validateInput(input);
            LayerNormKernel.Cache[] holder = new LayerNormKernel.Cache[1];
            INDArray out = LayerNormKernel.forward(input.reshape('c', -1, input.size(2)), weights().get(GAMMA),
                    weights().get(BETA), config.getEpsilon(), holder);
            cache = holder[0];
            return out.reshape('c', input.shape());
        }

        @Override
        protected INDArray backward(INDArray epsilon) {
            INDArray dy = epsilon.reshape('c', -1, epsilon.size(2));
            INDArray dx = LayerNormKernel.backward(dy, cache, weights().get(GAMMA), gradientViews().get(GAMMA),
                    gradientViews().get(BETA));
            return dx.reshape('c', epsilon.shape());
        }
    }

    /** Builder; {@code hiddenSize} may be left to {@link #setNIn} from the input type. */
    public static class Builder extends ImportedTokenLayer.Builder<Builder> {
        private long hiddenSize;
        private double epsilon = 1e-6;

        /** Token width D; left at 0, it is taken from the input type. */
        public Builder hiddenSize(long hiddenSize) {
            this.hiddenSize = hiddenSize;
            return this;
        }

        /** ε added to the variance (Keras {@code epsilon}); default 1e-6. */
        public Builder epsilon(double epsilon) {
            this.epsilon = epsilon;
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public TokenLayerNorm build() {
            return new TokenLayerNorm(this);
        }
    }
}
