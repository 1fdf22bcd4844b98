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

import java.util.Arrays;
import java.util.Map;

/**
 * Adds a learned position embedding to a token map (vit-keras {@code AddPositionEmbs}): {@code [B, T, D] + pos},
 * with the parameter {@code positionEmbedding [T, D]} (Keras's {@code pos_embedding [1, T, D]}).
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public class PositionEmbeddingLayer extends ImportedTokenLayer {

    public static final String POSITION_EMBEDDING = "positionEmbedding";

    private long hiddenSize;
    private long tokens;

    private PositionEmbeddingLayer(Builder builder) {
        super(builder);
        hiddenSize = builder.hiddenSize;
        tokens = builder.tokens;
        validate();
    }

    @Override
    public void validate() {
        require(hiddenSize >= 0, "hiddenSize", ">= 0 (0: from the input type)", hiddenSize);
        require(tokens >= 0, "tokens", ">= 0 (0: from the input type)", tokens);
    }

    @Override
    protected void requireSizes() {
        require(hiddenSize > 0, "hiddenSize", "> 0 (set it or give the layer an input type)", hiddenSize);
        require(tokens > 0, "tokens", "> 0 (set it or give the layer an input type)", tokens);
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        params.addWeightParam(POSITION_EMBEDDING, tokens, hiddenSize);
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        ParameterInit.truncatedNormal(params.get(POSITION_EMBEDDING), 0.02);
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, Map<String, SDVariable> params, SDVariable mask) {
        return input.add(params.get(POSITION_EMBEDDING));
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        InputType.InputTypeRecurrent map = tokenMap(inputType);
        if (hiddenSize <= 0 || override) {
            hiddenSize = map.getSize();
        }
        if (tokens <= 0 || override) {
            tokens = map.getTimeSeriesLength();
        }
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        InputType.InputTypeRecurrent map = tokenMap(inputType);
        require(map.getSize() == hiddenSize, "input width", "hiddenSize " + hiddenSize, map.getSize());
        require(map.getTimeSeriesLength() == tokens, "input tokens", "tokens " + tokens, map.getTimeSeriesLength());
        return inputType;
    }

    @Override
    public void validateInput(INDArray input) {
        if (input.rank() != 3 || input.size(1) != tokens || input.size(2) != hiddenSize) {
            throw new IllegalArgumentException("PositionEmbeddingLayer '" + getLayerName() + "': input has shape "
                    + Arrays.toString(input.shape()) + ", expected [batch, " + tokens + ", " + hiddenSize + "]");
        }
    }

    @Override
    protected FastLayer createFastRuntime(NeuralNetConfiguration conf, DataType dataType) {
        return new FastRuntime(conf, dataType);
    }

    /** Broadcast add; the embedding's gradient is the output gradient summed over the batch. */
    static final class FastRuntime extends FastLayer {

        FastRuntime(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        @Override
        protected INDArray forward(INDArray input, boolean training) {
            ((PositionEmbeddingLayer) layerConf()).validateInput(input);
            long batch = input.size(0), width = input.size(1) * input.size(2);
            INDArray table = weights().get(POSITION_EMBEDDING).reshape('c', 1, width);
            return input.reshape('c', batch, width).addRowVector(table).reshape('c', input.shape());
        }

        @Override
        protected INDArray backward(INDArray epsilon) {
            INDArray gradient = gradientViews().get(POSITION_EMBEDDING);
            gradient.addi(epsilon.sum(0).reshape(gradient.shape()));
            return epsilon.dup('c');
        }
    }

    /** Builder; sizes may be left to {@link #setNIn} from the input type. */
    public static class Builder extends ImportedTokenLayer.Builder<Builder> {
        private long hiddenSize;
        private long tokens;

        /** Token width D; left at 0, it is taken from the input type. */
        public Builder hiddenSize(long hiddenSize) {
            this.hiddenSize = hiddenSize;
            return this;
        }

        /** Tokens T of the map; left at 0, it is taken from the input type. */
        public Builder tokens(long tokens) {
            this.tokens = tokens;
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public PositionEmbeddingLayer build() {
            return new PositionEmbeddingLayer(this);
        }
    }
}
