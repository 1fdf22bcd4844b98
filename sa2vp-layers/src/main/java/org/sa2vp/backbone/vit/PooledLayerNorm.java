package org.sa2vp.backbone.vit;

import lombok.Data;
import lombok.EqualsAndHashCode;
import lombok.NoArgsConstructor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.sa2vp.backbone.BackboneLayer;
import org.sa2vp.layers.ParameterInit;
import org.sa2vp.layers.SameDiffReference;
import org.sa2vp.layers.runtime.FastLayer;
import org.sa2vp.layers.runtime.LayerNormKernel;

import java.util.Arrays;
import java.util.Map;

/**
 * The ViT's final LayerNorm and pooling: token map {@code [B, T, D]} → features {@code [B, D]}. With
 * {@link TokenPooling#CLASS_TOKEN} only the class token is normalised (LayerNorm is per token, so this equals
 * normalising every token and then taking token 0). With {@link TokenPooling#MEAN} the mean runs over the patch
 * tokens only: after the class token and after {@code promptTokens} prompt tokens (VPT's layout
 * {@code [cls ; prompts ; patches]}). Parameters {@code normGamma}, {@code normBeta} {@code [1, D]}.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public class PooledLayerNorm extends BackboneLayer {

    public static final String NORM_GAMMA = "normGamma";
    public static final String NORM_BETA = "normBeta";

    private int hiddenSize;
    private TokenPooling pooling = TokenPooling.CLASS_TOKEN;
    /** Whether token 0 is a class token (excluded from {@link TokenPooling#MEAN}). */
    private boolean classToken = true;
    /** Prompt tokens between the class token and the patches, excluded from {@link TokenPooling#MEAN}. */
    private int promptTokens;
    private double layerNormEps = 1e-6;

    private PooledLayerNorm(Builder b) {
        super(b);
        hiddenSize = b.hiddenSize;
        pooling = b.pooling;
        classToken = b.classToken;
        promptTokens = b.promptTokens;
        layerNormEps = b.layerNormEps;
        validate();
    }

    @Override
    public void validate() {
        require(hiddenSize > 0, "hiddenSize", "> 0", hiddenSize);
        require(pooling != null, "pooling", "CLASS_TOKEN or MEAN", pooling);
        require(pooling != TokenPooling.CLASS_TOKEN || classToken, "pooling", "MEAN when there is no class token",
                pooling);
        require(promptTokens >= 0, "promptTokens", ">= 0", promptTokens);
        require(layerNormEps > 0, "layerNormEps", "> 0", layerNormEps);
    }

    /** Index of the first token {@link TokenPooling#MEAN} averages: after the class and prompt tokens. */
    public int firstPooledToken() {
        return (classToken ? 1 : 0) + promptTokens;
    }

    @Override
    public boolean usesDropout() {
        return false;
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
        SDVariable pooled;
        if (pooling == TokenPooling.CLASS_TOKEN) {
            pooled = input.get(SDIndex.all(), SDIndex.interval(0L, 1L), SDIndex.all());
        } else {
            long first = firstPooledToken();
            long count = tokens - first;
            // Mean over tokens as a 2-D GEMM ([B·D, N]·[N, 1]): M2.1 matmul does not broadcast ranks.
            SDVariable averager = sd.constant(Nd4j.valueArrayOf(new long[]{count, 1}, 1.0 / count)
                    .castTo(input.dataType()));
            pooled = input.get(SDIndex.all(), SDIndex.interval(first, tokens), SDIndex.all()).permute(0, 2, 1)
                    .reshape(-1, count).mmul(averager).reshape(-1, 1, hiddenSize);
        }
        return SameDiffReference.layerNorm(pooled, p.get(NORM_GAMMA), p.get(NORM_BETA), layerNormEps, 1, hiddenSize)
                .reshape(-1, hiddenSize);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        if (!(inputType instanceof InputType.InputTypeRecurrent rnn) || rnn.getSize() != hiddenSize) {
            throw new IllegalArgumentException("PooledLayerNorm '" + getLayerName() + "': input must be token maps "
                    + "InputType.recurrent(" + hiddenSize + ", T, RNNFormat.NWC), got " + inputType);
        }
        return InputType.feedForward(hiddenSize);
    }

    @Override
    public void validateInput(INDArray input) {
        if (input.rank() != 3 || input.size(2) != hiddenSize || input.size(1) < firstPooledToken() + 1) {
            throw new IllegalArgumentException("PooledLayerNorm '" + getLayerName() + "': input has shape "
                    + Arrays.toString(input.shape()) + ", expected [batch, tokens, " + hiddenSize + "]");
        }
    }

    @Override
    protected FastLayer createFastRuntime(NeuralNetConfiguration conf, DataType dataType) {
        return new FastRuntime(conf, dataType);
    }

    static final class FastRuntime extends FastLayer {
        private LayerNormKernel.Cache cache;
        private long[] inputShape;

        FastRuntime(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        private PooledLayerNorm config() {
            return (PooledLayerNorm) layerConf();
        }

        private long firstPooled() {
            return config().firstPooledToken();
        }

        @Override
        protected INDArray forward(INDArray input, boolean training) {
            PooledLayerNorm c = config();
            c.validateInput(input);
            inputShape = input.shape();
            INDArray pooled = c.getPooling() == TokenPooling.CLASS_TOKEN
                    ? input.get(NDArrayIndex.all(), NDArrayIndex.point(0), NDArrayIndex.all()).dup('c')
                    : input.get(NDArrayIndex.all(), NDArrayIndex.interval(firstPooled(), input.size(1)),
                    NDArrayIndex.all()).mean(1);
            LayerNormKernel.Cache[] out = new LayerNormKernel.Cache[1];
            INDArray features = LayerNormKernel.forward(pooled, weights().get(NORM_GAMMA), weights().get(NORM_BETA),
                    c.getLayerNormEps(), out);
            cache = out[0];
            return features;
        }

        @Override
        protected INDArray backward(INDArray epsilon) {
            PooledLayerNorm c = config();
            INDArray dPooled = LayerNormKernel.backward(epsilon, cache, weights().get(NORM_GAMMA),
                    c.trainableGradient(gradientViews(), NORM_GAMMA), c.trainableGradient(gradientViews(), NORM_BETA));
            INDArray dx = Nd4j.zeros(epsilon.dataType(), inputShape);
            if (c.getPooling() == TokenPooling.CLASS_TOKEN) {
                dx.get(NDArrayIndex.all(), NDArrayIndex.point(0), NDArrayIndex.all()).assign(dPooled);
            } else {
                long first = firstPooled(), count = inputShape[1] - first;
                INDArray share = dPooled.div(count).reshape(inputShape[0], 1, inputShape[2]);
                dx.get(NDArrayIndex.all(), NDArrayIndex.interval(first, inputShape[1]), NDArrayIndex.all())
                        .addi(share.repeat(1, count));
            }
            return dx;
        }
    }

    /** Builder; defaults: class-token pooling, eps 1e-6, frozen. */
    public static class Builder extends BackboneLayer.Builder<Builder> {
        private int hiddenSize;
        private TokenPooling pooling = TokenPooling.CLASS_TOKEN;
        private boolean classToken = true;
        private int promptTokens;
        private double layerNormEps = 1e-6;

        /** Token width D. */
        public Builder hiddenSize(int hiddenSize) {
            this.hiddenSize = hiddenSize;
            return this;
        }

        /** The class token (default) or the mean of the patch tokens. */
        public Builder pooling(TokenPooling pooling) {
            this.pooling = pooling;
            return this;
        }

        /** Whether token 0 is a class token; default true, required by class-token pooling. */
        public Builder classToken(boolean classToken) {
            this.classToken = classToken;
            return this;
        }

        /** Prompt tokens after the class token that mean pooling skips (default 0). */
        public Builder promptTokens(int promptTokens) {
            this.promptTokens = promptTokens;
            return this;
        }

        /** ε of the LayerNorm; default 1e-6. */
        public Builder layerNormEps(double layerNormEps) {
            this.layerNormEps = layerNormEps;
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public PooledLayerNorm build() {
            return new PooledLayerNorm(this);
        }
    }
}
