package org.sa2vp.backbone.weights.keras;

import lombok.Data;
import lombok.EqualsAndHashCode;
import lombok.NoArgsConstructor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.layers.Implementation;
import org.sa2vp.layers.ParameterInit;
import org.sa2vp.layers.runtime.FastLayer;
import org.sa2vp.layers.runtime.LinearKernel;

import java.util.Arrays;
import java.util.Map;

/**
 * A Keras {@code Dense} applied to a token map: {@code act(x·W + b)} on every token, {@code [B, T, in] → [B, T, out]},
 * with {@code W [in, out]} (Keras's kernel as it is) and {@code b [1, out]}.
 *
 * <p>Why: DL4J's {@code DenseLayer} on {@code [B, T, D]} input flattens the tokens to {@code [B·T, D]} and leaves
 * them flattened, so the residual {@code Add} of a transformer MLP then fails on {@code [B, T, D]} versus
 * {@code [B·T, D]}. Parameter names are DL4J's ({@code W}, {@code b}) so DL4J's Keras Dense weight handling applies.
 * The FAST runtime takes any ND4J activation; the SAMEDIFF reference supports identity and {@link ExactGeluActivation}.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public class TokenDense extends ImportedTokenLayer {

    public static final String WEIGHT = DefaultParamInitializer.WEIGHT_KEY;
    public static final String BIAS = DefaultParamInitializer.BIAS_KEY;

    private long inputSize;
    private long outputSize;
    private boolean hasBias = true;
    private IActivation activation = new ActivationIdentity();

    private TokenDense(Builder builder) {
        super(builder);
        inputSize = builder.inputSize;
        outputSize = builder.outputSize;
        hasBias = builder.hasBias;
        activation = builder.activation;
        validate();
    }

    @Override
    public void validate() {
        require(inputSize >= 0, "inputSize", ">= 0 (0: from the input type)", inputSize);
        require(outputSize > 0, "outputSize", "> 0", outputSize);
        require(activation != null, "activation", "an activation (identity for linear)", activation);
        require(getImplementation() != Implementation.SAMEDIFF || activation instanceof ActivationIdentity
                        || activation instanceof ExactGeluActivation, "activation",
                "identity or exact GELU with implementation SAMEDIFF", activation);
    }

    @Override
    protected void requireSizes() {
        require(inputSize > 0, "inputSize", "> 0 (set it or give the layer an input type)", inputSize);
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        params.addWeightParam(WEIGHT, inputSize, outputSize);
        if (hasBias) {
            params.addBiasParam(BIAS, 1, outputSize);
        }
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        ParameterInit.xavierUniform(params.get(WEIGHT));
        if (hasBias) {
            params.get(BIAS).assign(0.0);
        }
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, Map<String, SDVariable> params, SDVariable mask) {
        long tokens = input.getShape()[1];
        SDVariable y = TokenSameDiff.linear(input.reshape(-1, inputSize), params.get(WEIGHT), params.get(BIAS));
        if (activation instanceof ExactGeluActivation) {
            y = TokenSameDiff.gelu(y);
        }
        return y.reshape(-1, tokens, outputSize);
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        if (inputSize <= 0 || override) {
            inputSize = tokenMap(inputType).getSize();
        }
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        InputType.InputTypeRecurrent tokens = tokenMap(inputType);
        require(tokens.getSize() == inputSize, "input width", "inputSize " + inputSize, tokens.getSize());
        return InputType.recurrent(outputSize, tokens.getTimeSeriesLength(), RNNFormat.NWC);
    }

    @Override
    public void validateInput(INDArray input) {
        if (input.rank() != 3 || input.size(2) != inputSize) {
            throw new IllegalArgumentException("TokenDense '" + getLayerName() + "': input has shape "
                    + Arrays.toString(input.shape()) + ", expected [batch, tokens, " + inputSize + "]");
        }
    }

    @Override
    protected FastLayer createFastRuntime(NeuralNetConfiguration conf, DataType dataType) {
        return new FastRuntime(conf, dataType);
    }

    /** {@link LinearKernel} on the token matrix, then the activation (its backward from the pre-activation). */
    static final class FastRuntime extends FastLayer {
        private INDArray tokens;
        private INDArray preActivation;

        FastRuntime(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        @Override
        protected INDArray forward(INDArray input, boolean training) {
            TokenDense config = (TokenDense) layerConf();
            config.validateInput(input);
            tokens = input.reshape('c', input.size(0) * input.size(1), input.size(2));
            preActivation = LinearKernel.forward(tokens, weights().get(WEIGHT), weights().get(BIAS));
            INDArray out = config.getActivation().getActivation(preActivation.dup(), training);
            return out.reshape('c', input.size(0), input.size(1), config.getOutputSize());
        }

        @Override
        protected INDArray backward(INDArray epsilon) {
            TokenDense config = (TokenDense) layerConf();
            INDArray dOut = epsilon.reshape('c', tokens.size(0), config.getOutputSize()).dup('c');
            INDArray dPre = config.getActivation().backprop(preActivation.dup(), dOut).getFirst();
            INDArray dTokens = LinearKernel.backward(dPre, tokens, weights().get(WEIGHT), gradientViews().get(WEIGHT),
                    gradientViews().get(BIAS), true);
            return dTokens.reshape('c', epsilon.size(0), epsilon.size(1), config.getInputSize());
        }
    }

    /** Builder; {@code inputSize} may be left to {@link #setNIn} from the input type. */
    public static class Builder extends ImportedTokenLayer.Builder<Builder> {
        private long inputSize;
        private long outputSize;
        private boolean hasBias = true;
        private IActivation activation = new ActivationIdentity();

        /** Input token width; left at 0, it is taken from the input type. */
        public Builder inputSize(long inputSize) {
            this.inputSize = inputSize;
            return this;
        }

        /** Output token width. */
        public Builder outputSize(long outputSize) {
            this.outputSize = outputSize;
            return this;
        }

        /** Whether the layer adds a bias (Keras {@code use_bias}); default true. */
        public Builder hasBias(boolean hasBias) {
            this.hasBias = hasBias;
            return this;
        }

        /** Activation applied to every token; default identity. */
        public Builder activation(IActivation activation) {
            this.activation = activation;
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public TokenDense build() {
            return new TokenDense(this);
        }
    }
}
