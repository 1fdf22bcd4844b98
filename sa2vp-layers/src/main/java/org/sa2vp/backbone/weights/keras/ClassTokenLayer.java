package org.sa2vp.backbone.weights.keras;

import lombok.Data;
import lombok.EqualsAndHashCode;
import lombok.NoArgsConstructor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.sa2vp.layers.runtime.FastLayer;

import java.util.Arrays;
import java.util.Map;

/**
 * Prepends a learned class token to a token map (vit-keras {@code ClassToken}): {@code [B, N, D] → [B, N+1, D]},
 * token 0 being the parameter {@code classToken [1, D]} (Keras's {@code cls [1, 1, D]}).
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public class ClassTokenLayer extends ImportedTokenLayer {

    public static final String CLASS_TOKEN = "classToken";

    private long hiddenSize;

    private ClassTokenLayer(Builder builder) {
        super(builder);
        hiddenSize = builder.hiddenSize;
        validate();
    }

    @Override
    public void validate() {
        require(hiddenSize >= 0, "hiddenSize", ">= 0 (0: from the input type)", hiddenSize);
    }

    @Override
    protected void requireSizes() {
        require(hiddenSize > 0, "hiddenSize", "> 0 (set it or give the layer an input type)", hiddenSize);
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        params.addWeightParam(CLASS_TOKEN, 1, hiddenSize);
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        params.get(CLASS_TOKEN).assign(0.0);
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, Map<String, SDVariable> params, SDVariable mask) {
        long tokens = input.getShape()[1];
        // [B, 1] ones · [1, D] token = the token repeated over the batch, as a differentiable op
        SDVariable ones = sd.onesLike(input.reshape(-1, tokens * hiddenSize)).get(SDIndex.all(),
                SDIndex.interval(0, 1));
        SDVariable repeated = ones.mmul(params.get(CLASS_TOKEN)).reshape(-1, 1, hiddenSize);
        return sd.concat(1, repeated, input);
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
        return InputType.recurrent(hiddenSize, tokens.getTimeSeriesLength() + 1, RNNFormat.NWC);
    }

    @Override
    public void validateInput(INDArray input) {
        if (input.rank() != 3 || input.size(2) != hiddenSize) {
            throw new IllegalArgumentException("ClassTokenLayer '" + getLayerName() + "': input has shape "
                    + Arrays.toString(input.shape()) + ", expected [batch, tokens, " + hiddenSize + "]");
        }
    }

    @Override
    protected FastLayer createFastRuntime(NeuralNetConfiguration conf, DataType dataType) {
        return new FastRuntime(conf, dataType);
    }

    /** Concatenation forward; backward splits the gradient and sums the token's part over the batch. */
    static final class FastRuntime extends FastLayer {

        FastRuntime(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        @Override
        protected INDArray forward(INDArray input, boolean training) {
            ((ClassTokenLayer) layerConf()).validateInput(input);
            long batch = input.size(0), tokens = input.size(1), dim = input.size(2);
            INDArray out = Nd4j.createUninitialized(input.dataType(), batch, tokens + 1, dim);
            INDArray token = weights().get(CLASS_TOKEN);
            for (long b = 0; b < batch; b++) {
                out.get(NDArrayIndex.point(b), NDArrayIndex.point(0), NDArrayIndex.all()).assign(token.reshape(dim));
            }
            out.get(NDArrayIndex.all(), NDArrayIndex.interval(1, tokens + 1), NDArrayIndex.all()).assign(input);
            return out;
        }

        @Override
        protected INDArray backward(INDArray epsilon) {
            long tokens = epsilon.size(1);
            INDArray tokenGradient = gradientViews().get(CLASS_TOKEN);
            tokenGradient.addi(epsilon.get(NDArrayIndex.all(), NDArrayIndex.point(0), NDArrayIndex.all())
                    .sum(0).reshape(tokenGradient.shape()));
            return epsilon.get(NDArrayIndex.all(), NDArrayIndex.interval(1, tokens), NDArrayIndex.all()).dup('c');
        }
    }

    /** Builder; {@code hiddenSize} may be left to {@link #setNIn} from the input type. */
    public static class Builder extends ImportedTokenLayer.Builder<Builder> {
        private long hiddenSize;

        /** Token width D; left at 0, it is taken from the input type. */
        public Builder hiddenSize(long hiddenSize) {
            this.hiddenSize = hiddenSize;
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public ClassTokenLayer build() {
            return new ClassTokenLayer(this);
        }
    }
}
