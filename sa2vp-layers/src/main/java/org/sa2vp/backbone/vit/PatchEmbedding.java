package org.sa2vp.backbone.vit;

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
import org.sa2vp.backbone.BackboneLayer;
import org.sa2vp.layers.ParameterInit;
import org.sa2vp.layers.SameDiffReference;
import org.sa2vp.layers.runtime.DropoutKernel;
import org.sa2vp.layers.runtime.FastLayer;
import org.sa2vp.layers.runtime.PatchEmbeddingKernel;

import java.util.Map;

/**
 * ViT input embedding: an image {@code [B, C, H, W]} (NCHW) becomes the token map {@code [B, T, D]},
 * {@code T = 1 + (H/P)·(W/P)} (class token first, then patches in row-major order), as
 * <pre>
 *   tokens = [cls ; Conv_PxP,stride P(image)] + positionEmbedding,   then dropout (0.1 in the VPT ViT)
 * </pre>
 * The convolution is computed as one GEMM over non-overlapping patches. Parameters: {@code patchW}
 * {@code [C·P·P, D]} (rows ordered channel, kernel row, kernel column: a PyTorch OIHW kernel reshaped to
 * {@code [D, C·P·P]} and transposed), {@code patchB [1, D]}, {@code classToken [1, D]} (when enabled) and
 * {@code positionEmbedding [T, D]}. The gradient reaches the image as well as every trainable parameter.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public class PatchEmbedding extends BackboneLayer {

    public static final String PATCH_W = "patchW";
    public static final String PATCH_B = "patchB";
    public static final String CLASS_TOKEN = "classToken";
    public static final String POSITION_EMBEDDING = "positionEmbedding";

    private int inChannels = 3;
    private int imageHeight;
    private int imageWidth;
    private int patchSize;
    private int hiddenSize;
    private boolean classToken = true;
    private double dropout;

    private PatchEmbedding(Builder b) {
        super(b);
        inChannels = b.inChannels;
        imageHeight = b.imageHeight;
        imageWidth = b.imageWidth;
        patchSize = b.patchSize;
        hiddenSize = b.hiddenSize;
        classToken = b.classToken;
        dropout = b.dropout;
        validate();
    }

    @Override
    public void validate() {
        validateImageEmbedding(this, inChannels, imageHeight, imageWidth, patchSize, hiddenSize, dropout);
    }

    @Override
    public boolean usesDropout() {
        return dropout > 0;
    }

    public int gridHeight() {
        return imageHeight / patchSize;
    }

    public int gridWidth() {
        return imageWidth / patchSize;
    }

    public int numPatches() {
        return gridHeight() * gridWidth();
    }

    public int numTokens() {
        return numPatches() + (classToken ? 1 : 0);
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        defineEmbeddingParameters(params, geometry());
    }

    /** {@code patchW [C·P·P, D]}, {@code patchB [1, D]}, {@code classToken [1, D]}, {@code positionEmbedding [T, D]}. */
    public static void defineEmbeddingParameters(SDLayerParams params, PatchEmbeddingKernel.Geometry g) {
        params.addWeightParam(PATCH_W, (long) g.channels() * g.patch() * g.patch(), g.hidden());
        params.addBiasParam(PATCH_B, 1, g.hidden());
        if (g.classToken()) {
            params.addWeightParam(CLASS_TOKEN, 1, g.hidden());
        }
        params.addWeightParam(POSITION_EMBEDDING, g.tokens(), g.hidden());
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        initializeEmbeddingParameters(params, classToken);
    }

    /** timm's init: Xavier-uniform patch kernel, zero bias, class token N(0, 1e-6), position trunc-normal 0.02. */
    public static void initializeEmbeddingParameters(Map<String, INDArray> params, boolean classToken) {
        ParameterInit.xavierUniform(params.get(PATCH_W));
        params.get(PATCH_B).assign(0);
        if (classToken) {
            ParameterInit.normal(params.get(CLASS_TOKEN), 1e-6);
        }
        ParameterInit.truncatedNormal(params.get(POSITION_EMBEDDING), 0.02);
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, Map<String, SDVariable> p, SDVariable mask) {
        return sameDiffTokens(input, p, geometry());
    }

    /** The SameDiff reference of the embedding: images {@code [B, C, H, W]} → tokens {@code [B, T, D]}. */
    public static SDVariable sameDiffTokens(SDVariable input, Map<String, SDVariable> p,
                                            PatchEmbeddingKernel.Geometry g) {
        SDVariable tokens = SameDiffReference.patchTokens(input, p.get(PATCH_W), p.get(PATCH_B), g);
        if (g.classToken()) {
            // [B, 1, D] copies of the class token: the first patch token times 0 plus the token broadcasts it.
            SDVariable cls = tokens.get(SDIndex.all(), SDIndex.interval(0L, 1L), SDIndex.all()).mul(0.0)
                    .add(p.get(CLASS_TOKEN).reshape(-1));
            tokens = input.getSameDiff().concat(1, cls, tokens);
        }
        return tokens.add(p.get(POSITION_EMBEDDING));
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        checkImageType(this, inputType, inChannels, imageHeight, imageWidth);
        return InputType.recurrent(hiddenSize, numTokens(), RNNFormat.NWC);
    }

    @Override
    public void validateInput(INDArray input) {
        checkImages(this, input, inChannels, imageHeight, imageWidth);
    }

    @Override
    protected FastLayer createFastRuntime(NeuralNetConfiguration conf, DataType dataType) {
        return new FastRuntime(conf, dataType);
    }

    /** The geometry the kernel needs. */
    public PatchEmbeddingKernel.Geometry geometry() {
        return new PatchEmbeddingKernel.Geometry(inChannels, patchSize, gridHeight(), gridWidth(), hiddenSize,
                classToken);
    }

    /** Runtime on {@link PatchEmbeddingKernel}, with the embedding dropout. */
    static final class FastRuntime extends FastLayer {
        private final INDArray[] patches = new INDArray[1];
        private INDArray dropoutMask;

        FastRuntime(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        private PatchEmbedding config() {
            return (PatchEmbedding) layerConf();
        }

        @Override
        protected INDArray forward(INDArray input, boolean training) {
            PatchEmbedding c = config();
            c.validateInput(input);
            Map<String, INDArray> w = weights();
            INDArray out = PatchEmbeddingKernel.forward(input, c.geometry(), w.get(PATCH_W), w.get(PATCH_B),
                    w.get(CLASS_TOKEN), w.get(POSITION_EMBEDDING), patches);
            dropoutMask = DropoutKernel.mask(out, c.getDropout(), training);
            return DropoutKernel.apply(out, dropoutMask);
        }

        @Override
        protected INDArray backward(INDArray epsilon) {
            PatchEmbedding c = config();
            Map<String, INDArray> g = gradientViews();
            INDArray dOut = dropoutMask == null ? epsilon : epsilon.mul(dropoutMask);
            return PatchEmbeddingKernel.backward(dOut, c.geometry(), patches[0], weights().get(PATCH_W),
                    c.trainableGradient(g, PATCH_W), c.trainableGradient(g, PATCH_B), c.trainableGradient(g, CLASS_TOKEN),
                    c.trainableGradient(g, POSITION_EMBEDDING));
        }
    }

    /** Builder; defaults: 3 channels, class token, no dropout, frozen. */
    public static class Builder extends BackboneLayer.Builder<Builder> {
        private int inChannels = 3;
        private int imageHeight;
        private int imageWidth;
        private int patchSize;
        private int hiddenSize;
        private boolean classToken = true;
        private double dropout;

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

        /** Patch side P, the convolution's kernel and stride. */
        public Builder patchSize(int patchSize) {
            this.patchSize = patchSize;
            return this;
        }

        /** Token width D. */
        public Builder hiddenSize(int hiddenSize) {
            this.hiddenSize = hiddenSize;
            return this;
        }

        /** Whether a learned class token is put before the patches; default true. */
        public Builder classToken(boolean classToken) {
            this.classToken = classToken;
            return this;
        }

        /** Dropout on the embedded tokens while training; default 0 (0.1 in the VPT ViT). */
        public Builder dropout(double dropout) {
            this.dropout = dropout;
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public PatchEmbedding build() {
            return new PatchEmbedding(this);
        }
    }
}
