package org.sa2vp.backbone.weights.keras;

import lombok.Data;
import lombok.EqualsAndHashCode;
import lombok.NoArgsConstructor;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffLambdaLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.sa2vp.layers.FastSameDiffLayer;
import org.sa2vp.layers.Implementation;
import org.sa2vp.layers.runtime.FastLayer;
import org.sa2vp.layers.runtime.SameDiffGradientFixLayer;

import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;

/**
 * Picks one token of a token map, {@code [B, T, D] → [B, D]}: vit-keras's
 * {@code Lambda(lambda v: v[:, 0], name="ExtractToken")} with {@code tokenIndex} 0. Output type
 * {@code InputType.feedForward(D)}. A {@link SameDiffLambdaLayer} because DL4J's Keras import resolves Lambda
 * layers through {@code KerasLayer.registerLambdaLayer(layerName, SameDiffLambdaLayer)}; the default FAST runtime
 * avoids the M2.1 doubled input gradient of SameDiff lambda layers.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public class TokenSelectLayer extends SameDiffLambdaLayer {

    private int tokenIndex;
    private Implementation implementation = Implementation.FAST;

    public TokenSelectLayer(int tokenIndex) {
        this.tokenIndex = tokenIndex;
        if (tokenIndex < 0) {
            throw new IllegalArgumentException("TokenSelectLayer: tokenIndex must be >= 0, got " + tokenIndex);
        }
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input) {
        return input.get(SDIndex.all(), SDIndex.point(tokenIndex), SDIndex.all());
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        if (!(inputType instanceof InputType.InputTypeRecurrent tokens)
                || tokens.getTimeSeriesLength() > 0 && tokenIndex >= tokens.getTimeSeriesLength()) {
            throw new IllegalArgumentException("TokenSelectLayer '" + getLayerName() + "': input must be a token map "
                    + "InputType.recurrent(D, T, RNNFormat.NWC) with more than " + tokenIndex + " tokens, got "
                    + inputType);
        }
        return InputType.feedForward(tokens.getSize());
    }

    @Override
    public void validateInput(INDArray input) {
        if (input.rank() != 3 || input.size(1) <= tokenIndex) {
            throw new IllegalArgumentException("TokenSelectLayer '" + getLayerName() + "': input has shape "
                    + Arrays.toString(input.shape()) + ", expected [batch, tokens > " + tokenIndex + ", width]");
        }
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
                             INDArray view, boolean initializeParams, DataType dataType) {
        return FastSameDiffLayer.wire(implementation == Implementation.SAMEDIFF
                        ? new SameDiffGradientFixLayer(conf, dataType) : new FastRuntime(conf, dataType), conf, listeners,
                layerIndex, view, initializeParams, initializer());
    }

    /** A copy of the selected token; backward scatters the gradient into that token's row. */
    static final class FastRuntime extends FastLayer {
        private long[] inputShape;

        FastRuntime(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
            // DL4J gives parameter-free layers no gradient view; FastLayer zeroes and reads this table.
            gradTable = new HashMap<>();
        }

        @Override
        protected INDArray forward(INDArray input, boolean training) {
            TokenSelectLayer config = (TokenSelectLayer) layerConf();
            config.validateInput(input);
            inputShape = input.shape();
            return input.get(NDArrayIndex.all(), NDArrayIndex.point(config.getTokenIndex()), NDArrayIndex.all())
                    .dup('c');
        }

        @Override
        protected INDArray backward(INDArray epsilon) {
            INDArray dInput = Nd4j.zeros(epsilon.dataType(), inputShape);
            dInput.get(NDArrayIndex.all(), NDArrayIndex.point(((TokenSelectLayer) layerConf()).getTokenIndex()),
                    NDArrayIndex.all()).assign(epsilon);
            return dInput;
        }
    }
}
