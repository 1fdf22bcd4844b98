package org.sa2vp.model;

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
import org.sa2vp.backbone.vit.PooledLayerNorm;
import org.sa2vp.layers.ParameterInit;
import org.sa2vp.layers.SameDiffReference;
import org.sa2vp.layers.runtime.FastLayer;
import org.sa2vp.layers.runtime.LayerNormKernel;
import org.sa2vp.layers.runtime.LinearKernel;

import java.util.Arrays;
import java.util.Map;
import java.util.Set;

/**
 * The end of SA2VP-ViT: the packed streams {@code [B, 2T, D]} → logits {@code [B, 2C]}, image logits first:
 * <pre>
 *   logits_img = LN(X[:, 0])·headW + headB        logits_prm = LN(P[:, 0])·headW + headB
 * </pre>
 * with the backbone's frozen final LayerNorm ({@code normGamma}, {@code normBeta}) and ONE trainable linear head
 * ({@code headW [D, C]}, {@code headB [1, C]}) shared by both streams, as the authors' {@code class_head}.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public class DualStreamHead extends BackboneLayer {

    public static final String HEAD_W = "headW";
    public static final String HEAD_B = "headB";
    private static final Set<String> HEAD_PARAMS = Set.of(HEAD_W, HEAD_B);

    private int hiddenSize;
    private int streamTokens;
    private int numClasses;
    private double layerNormEps = 1e-6;

    private DualStreamHead(Builder b) {
        super(b);
        hiddenSize = b.hiddenSize;
        streamTokens = b.streamTokens;
        numClasses = b.numClasses;
        layerNormEps = b.layerNormEps;
        validate();
    }

    @Override
    public void validate() {
        require(hiddenSize > 0, "hiddenSize", "> 0", hiddenSize);
        require(streamTokens > 0, "streamTokens", "> 0", streamTokens);
        require(numClasses > 0, "numClasses", "> 0", numClasses);
        require(layerNormEps > 0, "layerNormEps", "> 0", layerNormEps);
    }

    @Override
    public boolean usesDropout() {
        return false;
    }

    @Override
    public boolean isBackboneParam(String param) {
        return !HEAD_PARAMS.contains(param);
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        params.addBiasParam(PooledLayerNorm.NORM_GAMMA, 1, hiddenSize);
        params.addBiasParam(PooledLayerNorm.NORM_BETA, 1, hiddenSize);
        params.addWeightParam(HEAD_W, hiddenSize, numClasses);
        params.addBiasParam(HEAD_B, 1, numClasses);
    }

    /** The authors' head init: trunc-normal(0.02) weight, PyTorch's default U(±1/√D) bias. */
    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        ParameterInit.layerNorm(params.get(PooledLayerNorm.NORM_GAMMA), params.get(PooledLayerNorm.NORM_BETA));
        ParameterInit.truncatedNormal(params.get(HEAD_W), 0.02);
        double bound = 1.0 / Math.sqrt(hiddenSize);
        INDArray b = params.get(HEAD_B);
        b.assign(Nd4j.rand(b.dataType(), b.shape()).muli(2 * bound).subi(bound));
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, Map<String, SDVariable> p, SDVariable mask) {
        SDVariable image = input.get(SDIndex.all(), SDIndex.interval(0L, 1L), SDIndex.all());
        SDVariable prompt = input.get(SDIndex.all(), SDIndex.interval((long) streamTokens, streamTokens + 1L),
                SDIndex.all());
        SDVariable[] logits = new SDVariable[2];
        SDVariable[] streams = {image, prompt};
        for (int i = 0; i < 2; i++) {
            SDVariable normed = SameDiffReference.layerNorm(streams[i], p.get(PooledLayerNorm.NORM_GAMMA),
                    p.get(PooledLayerNorm.NORM_BETA), layerNormEps, 1, hiddenSize).reshape(-1, hiddenSize);
            logits[i] = normed.mmul(p.get(HEAD_W)).add(p.get(HEAD_B).reshape(-1));
        }
        return sd.concat(1, logits[0], logits[1]);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        if (!(inputType instanceof InputType.InputTypeRecurrent rnn) || rnn.getSize() != hiddenSize) {
            throw new IllegalArgumentException("DualStreamHead '" + getLayerName() + "': input must be packed streams "
                    + "InputType.recurrent(" + hiddenSize + ", " + 2 * streamTokens + ", RNNFormat.NWC), got "
                    + inputType);
        }
        return InputType.feedForward(2L * numClasses);
    }

    @Override
    public void validateInput(INDArray input) {
        if (input.rank() != 3 || input.size(1) != 2L * streamTokens || input.size(2) != hiddenSize) {
            throw new IllegalArgumentException("DualStreamHead '" + getLayerName() + "': input has shape "
                    + Arrays.toString(input.shape()) + ", expected [batch, " + 2 * streamTokens + ", " + hiddenSize
                    + "] (image and prompt streams)");
        }
    }

    @Override
    protected FastLayer createFastRuntime(NeuralNetConfiguration conf, DataType dataType) {
        return new FastRuntime(conf, dataType);
    }

    static final class FastRuntime extends FastLayer {
        private LayerNormKernel.Cache cache;
        private INDArray normed;
        private long[] inputShape;

        FastRuntime(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        private DualStreamHead config() {
            return (DualStreamHead) layerConf();
        }

        @Override
        protected INDArray forward(INDArray input, boolean training) {
            DualStreamHead c = config();
            c.validateInput(input);
            inputShape = input.shape();
            Map<String, INDArray> w = weights();
            // [2B, D]: the B image class tokens, then the B prompt class tokens.
            INDArray tokens = Nd4j.concat(0, input.get(NDArrayIndex.all(), NDArrayIndex.point(0), NDArrayIndex.all()),
                    input.get(NDArrayIndex.all(), NDArrayIndex.point(c.getStreamTokens()), NDArrayIndex.all()));
            LayerNormKernel.Cache[] out = new LayerNormKernel.Cache[1];
            normed = LayerNormKernel.forward(tokens, w.get(PooledLayerNorm.NORM_GAMMA),
                    w.get(PooledLayerNorm.NORM_BETA), c.getLayerNormEps(), out);
            cache = out[0];
            INDArray logits = LinearKernel.forward(normed, w.get(HEAD_W), w.get(HEAD_B));
            long batch = inputShape[0];
            return Nd4j.concat(1, logits.get(NDArrayIndex.interval(0, batch), NDArrayIndex.all()),
                    logits.get(NDArrayIndex.interval(batch, 2 * batch), NDArrayIndex.all()));
        }

        @Override
        protected INDArray backward(INDArray epsilon) {
            DualStreamHead c = config();
            Map<String, INDArray> w = weights();
            Map<String, INDArray> g = gradientViews();
            int classes = c.getNumClasses();
            INDArray dLogits = Nd4j.concat(0,
                    epsilon.get(NDArrayIndex.all(), NDArrayIndex.interval(0, classes)),
                    epsilon.get(NDArrayIndex.all(), NDArrayIndex.interval(classes, 2L * classes)));
            INDArray dNormed = LinearKernel.backward(dLogits, normed, w.get(HEAD_W), c.trainableGradient(g, HEAD_W),
                    c.trainableGradient(g, HEAD_B), true);
            INDArray dTokens = LayerNormKernel.backward(dNormed, cache, w.get(PooledLayerNorm.NORM_GAMMA),
                    c.trainableGradient(g, PooledLayerNorm.NORM_GAMMA), c.trainableGradient(g, PooledLayerNorm.NORM_BETA));
            long batch = inputShape[0];
            INDArray dx = Nd4j.zeros(epsilon.dataType(), inputShape);
            dx.get(NDArrayIndex.all(), NDArrayIndex.point(0), NDArrayIndex.all())
                    .assign(dTokens.get(NDArrayIndex.interval(0, batch), NDArrayIndex.all()));
            dx.get(NDArrayIndex.all(), NDArrayIndex.point(c.getStreamTokens()), NDArrayIndex.all())
                    .assign(dTokens.get(NDArrayIndex.interval(batch, 2 * batch), NDArrayIndex.all()));
            return dx;
        }
    }

    /** Builder; frozen final norm by default, trainable head. */
    public static class Builder extends BackboneLayer.Builder<Builder> {
        private int hiddenSize;
        private int streamTokens;
        private int numClasses;
        private double layerNormEps = 1e-6;

        /** Token width D. */
        public Builder hiddenSize(int v) {
            hiddenSize = v;
            return this;
        }

        /** Tokens per stream (class token + patches). */
        public Builder streamTokens(int v) {
            streamTokens = v;
            return this;
        }

        /** Classes C; the head's outputs per stream. */
        public Builder numClasses(int v) {
            numClasses = v;
            return this;
        }

        /** ε of the frozen final LayerNorm; default 1e-6. */
        public Builder layerNormEps(double v) {
            layerNormEps = v;
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public DualStreamHead build() {
            return new DualStreamHead(this);
        }
    }
}
