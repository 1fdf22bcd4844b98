package org.sa2vp.backbone.swin;

import lombok.Data;
import lombok.EqualsAndHashCode;
import lombok.NoArgsConstructor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.BackboneLayer;
import org.sa2vp.layers.ParameterInit;
import org.sa2vp.layers.SameDiffReference;
import org.sa2vp.layers.runtime.FastLayer;
import org.sa2vp.layers.runtime.LayerNormKernel;
import org.sa2vp.layers.runtime.PatchEmbeddingKernel;

import java.util.Map;

/**
 * Swin's patch embedding: images {@code [B, C, H, W]} (NCHW) become the token map {@code [B, (H/P)·(W/P), D]}
 * (row-major, no class token, no position embedding), as
 * <pre>
 *   tokens = LayerNorm(Conv_PxP,stride P(image))
 * </pre>
 * The convolution is one GEMM over non-overlapping patches ({@link PatchEmbeddingKernel}). Parameters:
 * {@code patchW [C·P·P, D]} (a PyTorch OIHW kernel reshaped to {@code [D, C·P·P]} and transposed),
 * {@code patchB [1, D]}, {@code normGamma}, {@code normBeta [1, D]}.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public class SwinPatchEmbedding extends BackboneLayer {

    public static final String PATCH_W = "patchW";
    public static final String PATCH_B = "patchB";
    public static final String NORM_GAMMA = "normGamma";
    public static final String NORM_BETA = "normBeta";

    private int inChannels = 3;
    private int imageHeight;
    private int imageWidth;
    private int patchSize = 4;
    private int hiddenSize;
    private double layerNormEps = 1e-5;

    private SwinPatchEmbedding(Builder b) {
        super(b);
        inChannels = b.inChannels;
        imageHeight = b.imageHeight;
        imageWidth = b.imageWidth;
        patchSize = b.patchSize;
        hiddenSize = b.hiddenSize;
        layerNormEps = b.layerNormEps;
        validate();
    }

    @Override
    public void validate() {
        validateImageEmbedding(this, inChannels, imageHeight, imageWidth, patchSize, hiddenSize, 0.0);
        require(layerNormEps > 0, "layerNormEps", "> 0", layerNormEps);
    }

    /** The patch grid and width the kernel needs. */
    public PatchEmbeddingKernel.Geometry geometry() {
        return new PatchEmbeddingKernel.Geometry(inChannels, patchSize, imageHeight / patchSize,
                imageWidth / patchSize, hiddenSize, false);
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        params.addWeightParam(PATCH_W, (long) inChannels * patchSize * patchSize, hiddenSize);
        params.addBiasParam(PATCH_B, 1, hiddenSize);
        params.addBiasParam(NORM_GAMMA, 1, hiddenSize);
        params.addBiasParam(NORM_BETA, 1, hiddenSize);
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        ParameterInit.xavierUniform(params.get(PATCH_W));
        params.get(PATCH_B).assign(0);
        ParameterInit.layerNorm(params.get(NORM_GAMMA), params.get(NORM_BETA));
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, Map<String, SDVariable> p, SDVariable mask) {
        PatchEmbeddingKernel.Geometry g = geometry();
        SDVariable tokens = SameDiffReference.patchTokens(input, p.get(PATCH_W), p.get(PATCH_B), g);
        return SameDiffReference.layerNorm(tokens, p.get(NORM_GAMMA), p.get(NORM_BETA), layerNormEps, g.patches(),
                hiddenSize);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        checkImageType(this, inputType, inChannels, imageHeight, imageWidth);
        return InputType.recurrent(hiddenSize, geometry().patches(), RNNFormat.NWC);
    }

    @Override
    public void validateInput(INDArray input) {
        checkImages(this, input, inChannels, imageHeight, imageWidth);
    }

    @Override
    protected FastLayer createFastRuntime(NeuralNetConfiguration conf, DataType dataType) {
        return new FastRuntime(conf, dataType);
    }

    /** Runtime on {@link PatchEmbeddingKernel} and {@link LayerNormKernel}. */
    static final class FastRuntime extends FastLayer {
        private final INDArray[] patches = new INDArray[1];
        private LayerNormKernel.Cache norm;

        FastRuntime(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        private SwinPatchEmbedding config() {
            return (SwinPatchEmbedding) layerConf();
        }

        @Override
        protected INDArray forward(INDArray input, boolean training) {
            SwinPatchEmbedding c = config();
            c.validateInput(input);
            Map<String, INDArray> w = weights();
            PatchEmbeddingKernel.Geometry g = c.geometry();
            INDArray tokens = PatchEmbeddingKernel.forward(input, g, w.get(PATCH_W), w.get(PATCH_B), null, null,
                    patches);                                                               // [B, N, D]
            LayerNormKernel.Cache[] cache = new LayerNormKernel.Cache[1];
            INDArray normed = LayerNormKernel.forward(tokens.reshape('c', tokens.size(0) * g.patches(),
                    g.hidden()), w.get(NORM_GAMMA), w.get(NORM_BETA), c.getLayerNormEps(), cache);
            norm = cache[0];
            return normed.reshape('c', tokens.shape());
        }

        @Override
        protected INDArray backward(INDArray epsilon) {
            SwinPatchEmbedding c = config();
            Map<String, INDArray> g = gradientViews();
            INDArray dNormed = epsilon.dup('c').reshape('c', epsilon.size(0) * epsilon.size(1), epsilon.size(2));
            INDArray dTokens = LayerNormKernel.backward(dNormed, norm, weights().get(NORM_GAMMA),
                    c.trainableGradient(g, NORM_GAMMA), c.trainableGradient(g, NORM_BETA));
            return PatchEmbeddingKernel.backward(dTokens.reshape('c', epsilon.shape()), c.geometry(), patches[0],
                    weights().get(PATCH_W), c.trainableGradient(g, PATCH_W), c.trainableGradient(g, PATCH_B), null,
                    null);
        }
    }

    /** Builder; defaults: 3 channels, patch 4, LayerNorm eps 1e-5, frozen. */
    public static class Builder extends BackboneLayer.Builder<Builder> {
        private int inChannels = 3;
        private int imageHeight;
        private int imageWidth;
        private int patchSize = 4;
        private int hiddenSize;
        private double layerNormEps = 1e-5;

        /** Image channels C; default 3. */
        public Builder inChannels(int inChannels) {
            this.inChannels = inChannels;
            return this;
        }

        /** Image height and width in pixels, each a multiple of the patch size. */
        public Builder imageSize(int height, int width) {
            this.imageHeight = height;
            this.imageWidth = width;
            return this;
        }

        /** Patch side P, the convolution's kernel and stride; default 4. */
        public Builder patchSize(int patchSize) {
            this.patchSize = patchSize;
            return this;
        }

        /** Token width D (Swin's embed dim). */
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
        public SwinPatchEmbedding build() {
            return new SwinPatchEmbedding(this);
        }
    }
}
