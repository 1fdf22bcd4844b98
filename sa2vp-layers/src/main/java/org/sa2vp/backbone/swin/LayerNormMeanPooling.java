package org.sa2vp.backbone.swin;

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
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.backbone.BackboneLayer;
import org.sa2vp.layers.ParameterInit;
import org.sa2vp.layers.SameDiffReference;
import org.sa2vp.layers.runtime.FastLayer;
import org.sa2vp.layers.runtime.LayerNormKernel;

import java.util.Arrays;
import java.util.Map;

/**
 * Swin's final LayerNorm and global average pooling: token map {@code [B, T, D]} → features {@code [B, D]}, every
 * token normalised, then the mean over the tokens (timm's {@code norm} and {@code head.global_pool}). The order
 * matters: the ViT's mean pooling ({@code PooledLayerNorm}) averages first and normalises the mean. Parameters
 * {@code normGamma}, {@code normBeta [1, D]}.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public class LayerNormMeanPooling extends BackboneLayer {

    public static final String NORM_GAMMA = "normGamma";
    public static final String NORM_BETA = "normBeta";

    private int hiddenSize;
    private double layerNormEps = 1e-5;

    private LayerNormMeanPooling(Builder b) {
        super(b);
        hiddenSize = b.hiddenSize;
        layerNormEps = b.layerNormEps;
        validate();
    }

    @Override
    public void validate() {
        require(hiddenSize > 0, "hiddenSize", "> 0", hiddenSize);
        require(layerNormEps > 0, "layerNormEps", "> 0", layerNormEps);
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        params.addBiasParam(NORM_GAMMA, 1, hiddenSize);
        params.addBiasParam(NORM_BETA, 1, hiddenSize);
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        ParameterInit.layerNorm(params.get(NORM_GAMMA), params.get(NORM_BETA));
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, Map<String, SDVariable> p, SDVariable mask) {
        long tokens = input.getShape()[1];
        SDVariable normed = SameDiffReference.layerNorm(input, p.get(NORM_GAMMA), p.get(NORM_BETA), layerNormEps,
                tokens, hiddenSize);
        // Mean over tokens as a 2-D GEMM ([B·D, T]·[T, 1]): M2.1 matmul does not broadcast ranks.
        SDVariable averager = sd.constant(Nd4j.valueArrayOf(new long[]{tokens, 1}, 1.0 / tokens)
                .castTo(input.dataType()));
        return normed.permute(0, 2, 1).reshape(-1, tokens).mmul(averager).reshape(-1, hiddenSize);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        if (!(inputType instanceof InputType.InputTypeRecurrent rnn) || rnn.getSize() != hiddenSize) {
            throw new IllegalArgumentException(describe() + ": input must be token maps InputType.recurrent("
                    + hiddenSize + ", T, RNNFormat.NWC), got " + inputType);
        }
        return InputType.feedForward(hiddenSize);
    }

    @Override
    public void validateInput(INDArray input) {
        if (input.rank() != 3 || input.size(2) != hiddenSize) {
            throw new IllegalArgumentException(describe() + ": input has shape " + Arrays.toString(input.shape())
                    + ", expected [batch, tokens, " + hiddenSize + "]");
        }
    }

    @Override
    protected FastLayer createFastRuntime(NeuralNetConfiguration conf, DataType dataType) {
        return new FastRuntime(conf, dataType);
    }

    /** Runtime on {@link LayerNormKernel}. */
    static final class FastRuntime extends FastLayer {
        private LayerNormKernel.Cache cache;
        private long[] inputShape;

        FastRuntime(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        private LayerNormMeanPooling config() {
            return (LayerNormMeanPooling) layerConf();
        }

        @Override
        protected INDArray forward(INDArray input, boolean training) {
            LayerNormMeanPooling c = config();
            c.validateInput(input);
            inputShape = input.shape();
            LayerNormKernel.Cache[] out = new LayerNormKernel.Cache[1];
            INDArray normed = LayerNormKernel.forward(input.dup('c').reshape('c', inputShape[0] * inputShape[1],
                    inputShape[2]), weights().get(NORM_GAMMA), weights().get(NORM_BETA), c.getLayerNormEps(), out);
            cache = out[0];
            return normed.reshape('c', inputShape).mean(1);
        }

        @Override
        protected INDArray backward(INDArray epsilon) {
            LayerNormMeanPooling c = config();
            long batch = inputShape[0], tokens = inputShape[1], d = inputShape[2];
            // each token's share of the mean: dPooled/T, the same for every token of a sample
            INDArray dNormed = epsilon.div(tokens).reshape(batch, 1, d).repeat(1, tokens).dup('c')
                    .reshape('c', batch * tokens, d);
            INDArray dx = LayerNormKernel.backward(dNormed, cache, weights().get(NORM_GAMMA),
                    c.trainableGradient(gradientViews(), NORM_GAMMA), c.trainableGradient(gradientViews(), NORM_BETA));
            return dx.reshape('c', inputShape);
        }
    }

    /** Builder; defaults: LayerNorm eps 1e-5, frozen. */
    public static class Builder extends BackboneLayer.Builder<Builder> {
        private int hiddenSize;
        private double layerNormEps = 1e-5;

        /** Token width D. */
        public Builder hiddenSize(int hiddenSize) {
            this.hiddenSize = hiddenSize;
            return this;
        }

        /** ε of the LayerNorm; default 1e-5. */
        public Builder layerNormEps(double layerNormEps) {
            this.layerNormEps = layerNormEps;
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public LayerNormMeanPooling build() {
            return new LayerNormMeanPooling(this);
        }
    }
}
