package org.sa2vp.model;

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
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.sa2vp.backbone.BackboneLayer;
import org.sa2vp.backbone.vit.PatchEmbedding;
import org.sa2vp.layers.ParameterInit;
import org.sa2vp.layers.runtime.DropoutKernel;
import org.sa2vp.layers.runtime.FastLayer;
import org.sa2vp.layers.runtime.Gemm;
import org.sa2vp.layers.runtime.PatchEmbeddingKernel;

import java.util.Map;
import java.util.Set;

/**
 * The input of SA2VP-ViT: images {@code [B, C, H, W]} become the two streams packed along the token axis,
 * {@code [B, 2T, D]} (image tokens, then prompt tokens; the layout {@link org.sa2vp.layers.DualPathwayVertex}
 * takes), as the authors' {@code Embeddings}:
 * <pre>
 *   image  X⁰ = Dropout([cls ; patches·W + b] + pos)                         (frozen ViT embedding)
 *   prompt P⁰ = Dropout(promptFactors·promptProjW + promptProjB + pos)       (rank-r map, same layout)
 * </pre>
 * The prompt map has the image's token layout (slot 0 is a learned prompt class token) and shares the frozen
 * position embedding. Trainable: {@code promptFactors [T, r]} (the authors' {@code ppt}),
 * {@code promptProjW [r, D]}, {@code promptProjB [1, D]} ({@code ppt_proj}); frozen: the {@link PatchEmbedding}
 * parameters, under the same names.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public class Sa2vpEmbedding extends BackboneLayer {

    public static final String PROMPT_FACTORS = "promptFactors";
    public static final String PROMPT_PROJ_W = "promptProjW";
    public static final String PROMPT_PROJ_B = "promptProjB";
    private static final Set<String> PROMPT_PARAMS = Set.of(PROMPT_FACTORS, PROMPT_PROJ_W, PROMPT_PROJ_B);

    private int inChannels = 3;
    private int imageHeight;
    private int imageWidth;
    private int patchSize;
    private int hiddenSize;
    private int promptRank = 16;
    /** Dropout after both embedding sums (the authors' 0.1). */
    private double dropout = 0.1;

    private Sa2vpEmbedding(Builder b) {
        super(b);
        inChannels = b.inChannels;
        imageHeight = b.imageHeight;
        imageWidth = b.imageWidth;
        patchSize = b.patchSize;
        hiddenSize = b.hiddenSize;
        promptRank = b.promptRank;
        dropout = b.dropout;
        validate();
    }

    @Override
    public void validate() {
        validateImageEmbedding(this, inChannels, imageHeight, imageWidth, patchSize, hiddenSize,
                dropout);
        require(promptRank > 0, "promptRank", "> 0", promptRank);
    }

    @Override
    public boolean usesDropout() {
        return dropout > 0;
    }

    @Override
    public boolean isBackboneParam(String param) {
        return !PROMPT_PARAMS.contains(param);
    }

    public PatchEmbeddingKernel.Geometry geometry() {
        return new PatchEmbeddingKernel.Geometry(inChannels, patchSize, imageHeight / patchSize,
                imageWidth / patchSize, hiddenSize, true);
    }

    /** Tokens per stream: class token + patches. */
    public int streamTokens() {
        return geometry().tokens();
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        PatchEmbedding.defineEmbeddingParameters(params, geometry());
        params.addWeightParam(PROMPT_FACTORS, streamTokens(), promptRank);
        params.addWeightParam(PROMPT_PROJ_W, promptRank, hiddenSize);
        params.addBiasParam(PROMPT_PROJ_B, 1, hiddenSize);
    }

    /** Backbone stand-ins until a checkpoint is copied in; the prompt as the authors: trunc-normal 0.02 factors, Xavier projection, N(0, 1e-6) bias. */
    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        PatchEmbedding.initializeEmbeddingParameters(params, true);
        ParameterInit.truncatedNormal(params.get(PROMPT_FACTORS), 0.02);
        ParameterInit.xavierUniform(params.get(PROMPT_PROJ_W));
        ParameterInit.normal(params.get(PROMPT_PROJ_B), 1e-6);
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, Map<String, SDVariable> p, SDVariable mask) {
        SDVariable image = PatchEmbedding.sameDiffTokens(input, p, geometry());
        SDVariable promptMap = p.get(PROMPT_FACTORS).mmul(p.get(PROMPT_PROJ_W)).add(p.get(PROMPT_PROJ_B).reshape(-1))
                .add(p.get(PatchEmbedding.POSITION_EMBEDDING));
        SDVariable prompt = image.mul(0.0).add(promptMap);
        return sd.concat(1, image, prompt);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        checkImageType(this, inputType, inChannels, imageHeight, imageWidth);
        return InputType.recurrent(hiddenSize, 2L * streamTokens(), RNNFormat.NWC);
    }

    @Override
    public void validateInput(INDArray input) {
        checkImages(this, input, inChannels, imageHeight, imageWidth);
    }

    @Override
    protected FastLayer createFastRuntime(NeuralNetConfiguration conf, DataType dataType) {
        return new FastRuntime(conf, dataType);
    }

    /** Patch-embedding kernel for the image stream, one GEMM for the prompt map; per-sample dropout masks. */
    static final class FastRuntime extends FastLayer {
        private final INDArray[] patches = new INDArray[1];
        private INDArray imageMask;
        private INDArray promptMask;

        FastRuntime(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        private Sa2vpEmbedding config() {
            return (Sa2vpEmbedding) layerConf();
        }

        @Override
        protected INDArray forward(INDArray input, boolean training) {
            Sa2vpEmbedding c = config();
            c.validateInput(input);
            Map<String, INDArray> w = weights();
            long batch = input.size(0);
            int t = c.streamTokens(), d = c.getHiddenSize();
            INDArray image = PatchEmbeddingKernel.forward(input, c.geometry(), w.get(PatchEmbedding.PATCH_W),
                    w.get(PatchEmbedding.PATCH_B), w.get(PatchEmbedding.CLASS_TOKEN),
                    w.get(PatchEmbedding.POSITION_EMBEDDING), patches);
            INDArray promptMap = Gemm.product(w.get(PROMPT_FACTORS), w.get(PROMPT_PROJ_W)).addiRowVector(w.get(PROMPT_PROJ_B))
                    .addi(w.get(PatchEmbedding.POSITION_EMBEDDING));
            INDArray prompt = Nd4j.zeros(input.dataType(), batch, t, d);
            prompt.reshape('c', batch, (long) t * d).addiRowVector(promptMap.reshape(1, (long) t * d));
            imageMask = DropoutKernel.mask(image, c.getDropout(), training);
            promptMask = DropoutKernel.mask(prompt, c.getDropout(), training);
            INDArray out = Nd4j.concat(1, DropoutKernel.apply(image, imageMask), DropoutKernel.apply(prompt,
                    promptMask));
            return out;
        }

        @Override
        protected INDArray backward(INDArray epsilon) {
            Sa2vpEmbedding c = config();
            Map<String, INDArray> w = weights();
            Map<String, INDArray> g = gradientViews();
            int t = c.streamTokens();
            INDArray dImage = epsilon.get(NDArrayIndex.all(), NDArrayIndex.interval(0, t), NDArrayIndex.all()).dup('c');
            INDArray dPrompt = epsilon.get(NDArrayIndex.all(), NDArrayIndex.interval(t, 2L * t), NDArrayIndex.all())
                    .dup('c');
            DropoutKernel.apply(dImage, imageMask);
            DropoutKernel.apply(dPrompt, promptMask);
            INDArray dMap = dPrompt.sum(0);
            INDArray dPositions = c.isFrozenParam(PatchEmbedding.POSITION_EMBEDDING) ? null
                    : g.get(PatchEmbedding.POSITION_EMBEDDING);
            if (dPositions != null) {
                dPositions.addi(dMap);
            }
            g.get(PROMPT_PROJ_B).addi(dMap.sum(0).reshape(1, c.getHiddenSize()));
            Gemm.accumulate(g.get(PROMPT_PROJ_W), w.get(PROMPT_FACTORS), true, dMap, false);
            Gemm.accumulate(g.get(PROMPT_FACTORS), dMap, false, w.get(PROMPT_PROJ_W), true);
            return PatchEmbeddingKernel.backward(dImage, c.geometry(), patches[0], w.get(PatchEmbedding.PATCH_W),
                    c.trainableGradient(g, PatchEmbedding.PATCH_W), c.trainableGradient(g, PatchEmbedding.PATCH_B),
                    c.trainableGradient(g, PatchEmbedding.CLASS_TOKEN), dPositions);
        }
    }

    /** Builder; defaults as the authors: rank 16, dropout 0.1, frozen backbone. */
    public static class Builder extends BackboneLayer.Builder<Builder> {
        private int inChannels = 3;
        private int imageHeight;
        private int imageWidth;
        private int patchSize;
        private int hiddenSize;
        private int promptRank = 16;
        private double dropout = 0.1;

        /** Image channels C; default 3. */
        public Builder inChannels(int v) {
            inChannels = v;
            return this;
        }

        /** Image height and width in pixels, each a multiple of the patch size. */
        public Builder imageSize(int height, int width) {
            imageHeight = height;
            imageWidth = width;
            return this;
        }

        /** Patch side of the frozen patch embedding. */
        public Builder patchSize(int v) {
            patchSize = v;
            return this;
        }

        /** Token width D. */
        public Builder hiddenSize(int v) {
            hiddenSize = v;
            return this;
        }

        /** Rank r of the prompt map. */
        public Builder promptRank(int v) {
            promptRank = v;
            return this;
        }

        /** Dropout on both embedded streams while training; default 0.1 (the authors'). */
        public Builder dropout(double v) {
            dropout = v;
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public Sa2vpEmbedding build() {
            return new Sa2vpEmbedding(this);
        }
    }
}
