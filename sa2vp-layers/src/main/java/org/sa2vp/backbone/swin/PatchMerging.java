package org.sa2vp.backbone.swin;

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
import org.sa2vp.backbone.BackboneLayer;
import org.sa2vp.layers.ParameterInit;
import org.sa2vp.layers.SameDiffReference;
import org.sa2vp.layers.runtime.FastLayer;
import org.sa2vp.layers.runtime.LayerNormKernel;
import org.sa2vp.layers.runtime.LinearKernel;

import java.util.Arrays;
import java.util.Map;

/**
 * Swin's patch merging between stages: a token map {@code [B, H·W, C]} of {@code gridHeight × gridWidth} tokens
 * becomes {@code [B, ⌈H/2⌉·⌈W/2⌉, 2C]}, as
 * <pre>
 *   x = [x[0::2, 0::2] ; x[1::2, 0::2] ; x[0::2, 1::2] ; x[1::2, 1::2]]   (each 2×2 neighbourhood, 4C wide)
 *   x = reduction(LayerNorm(x))                                          (Linear 4C → 2C, no bias)
 * </pre>
 * A map of odd height or width is first padded with a zero row at the bottom or a zero column at the right, as
 * torchvision, timm and Hugging Face do. Parameters: {@code normGamma}, {@code normBeta [1, 4C]},
 * {@code reductionW [4C, 2C]} (x·W layout: PyTorch's {@code reduction.weight} transposed).
 *
 * <p>Prompt tokens (VPT on Swin, {@code promptTokens} P > 0): the input is {@code [B, P + H·W, C]} and the output
 * {@code [B, P + ⌈H/2⌉·⌈W/2⌉, 2C]}; each prompt is repeated four times along the channels
 * ({@code [p ; p ; p ; p]}, 4C, VPT's {@code PromptedPatchMerging} without its optional projection) and goes through the same LayerNorm and
 * reduction as the merged neighbourhoods.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public class PatchMerging extends BackboneLayer {

    public static final String NORM_GAMMA = "normGamma";
    public static final String NORM_BETA = "normBeta";
    public static final String REDUCTION_W = "reductionW";

    private int hiddenSize;
    private int gridHeight;
    private int gridWidth;
    private double layerNormEps = 1e-5;
    /** P, prompt tokens in front of the map (VPT); 0 for the plain backbone. */
    private int promptTokens;

    private PatchMerging(Builder b) {
        super(b);
        hiddenSize = b.hiddenSize;
        gridHeight = b.gridHeight;
        gridWidth = b.gridWidth;
        layerNormEps = b.layerNormEps;
        promptTokens = b.promptTokens;
        validate();
    }

    @Override
    public void validate() {
        require(hiddenSize > 0, "hiddenSize", "> 0", hiddenSize);
        require(gridHeight > 0, "gridHeight", "> 0", gridHeight);
        require(gridWidth > 0, "gridWidth", "> 0", gridWidth);
        require(layerNormEps > 0, "layerNormEps", "> 0", layerNormEps);
        require(promptTokens >= 0, "promptTokens", ">= 0", promptTokens);
    }

    /** Tokens of the input: the prompts and the map, {@code P + H·W}. */
    public long inputTokens() {
        return promptTokens + (long) gridHeight * gridWidth;
    }

    /** Tokens of the output: the prompts and the merged map. */
    public long outputTokens() {
        return promptTokens + (long) outputHeight() * outputWidth();
    }

    public int outputHeight() {
        return (gridHeight + 1) / 2;
    }

    public int outputWidth() {
        return (gridWidth + 1) / 2;
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        params.addBiasParam(NORM_GAMMA, 1, 4L * hiddenSize);
        params.addBiasParam(NORM_BETA, 1, 4L * hiddenSize);
        params.addWeightParam(REDUCTION_W, 4L * hiddenSize, 2L * hiddenSize);
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        ParameterInit.layerNorm(params.get(NORM_GAMMA), params.get(NORM_BETA));
        ParameterInit.xavierUniform(params.get(REDUCTION_W));
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, Map<String, SDVariable> p, SDVariable mask) {
        int c = hiddenSize, h2 = outputHeight(), w2 = outputWidth();
        SDVariable map = (promptTokens == 0 ? input : input.get(SDIndex.all(),
                SDIndex.interval((long) promptTokens, inputTokens()), SDIndex.all()))
                .reshape(-1, gridHeight, gridWidth, c);
        if (gridHeight % 2 == 1 || gridWidth % 2 == 1) {
            map = sd.nn().pad(map, sd.constant(Nd4j.createFromArray(new int[][]{{0, 0}, {0, gridHeight % 2},
                    {0, gridWidth % 2}, {0, 0}})), 0.0);
        }
        // [B, H2, dy, W2, dx, C] → [B, H2, W2, dx, dy, C]: channel block dx·2 + dy is x[dy::2, dx::2]
        SDVariable merged = map.reshape(-1, h2, 2, w2, 2, c).permute(0, 1, 3, 4, 2, 5)
                .reshape(-1, (long) h2 * w2, 4L * c);
        if (promptTokens > 0) {
            SDVariable prompts = input.get(SDIndex.all(), SDIndex.interval(0L, (long) promptTokens), SDIndex.all());
            merged = sd.concat(1, sd.concat(2, prompts, prompts, prompts, prompts), merged);   // [B, P+T2, 4C]
        }
        SDVariable normed = SameDiffReference.layerNorm(merged, p.get(NORM_GAMMA), p.get(NORM_BETA), layerNormEps,
                outputTokens(), 4L * c);
        return normed.reshape(-1, 4L * c).mmul(p.get(REDUCTION_W)).reshape(-1, outputTokens(), 2L * c);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        if (!(inputType instanceof InputType.InputTypeRecurrent rnn) || rnn.getSize() != hiddenSize
                || (rnn.getTimeSeriesLength() > 0 && rnn.getTimeSeriesLength() != inputTokens())) {
            throw new IllegalArgumentException(describe() + ": input must be token maps InputType.recurrent("
                    + hiddenSize + ", " + inputTokens() + ", RNNFormat.NWC) (" + promptsText() + "a " + gridHeight
                    + "x" + gridWidth + " map), got " + inputType);
        }
        return InputType.recurrent(2L * hiddenSize, outputTokens(), RNNFormat.NWC);
    }

    @Override
    public void validateInput(INDArray input) {
        if (input.rank() != 3 || input.size(1) != inputTokens() || input.size(2) != hiddenSize) {
            throw new IllegalArgumentException(describe() + ": input has shape " + Arrays.toString(input.shape())
                    + ", expected [batch, " + inputTokens() + ", " + hiddenSize + "] (" + promptsText() + "a "
                    + gridHeight + "x" + gridWidth + " map)");
        }
    }

    private String promptsText() {
        return promptTokens == 0 ? "" : promptTokens + " prompts and ";
    }

    @Override
    protected FastLayer createFastRuntime(NeuralNetConfiguration conf, DataType dataType) {
        return new FastRuntime(conf, dataType);
    }

    /** Runtime on ND4J permutes, {@link LayerNormKernel} and {@link LinearKernel}. */
    static final class FastRuntime extends FastLayer {
        private LayerNormKernel.Cache norm;
        private INDArray normed;
        private long batch;

        FastRuntime(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        private PatchMerging config() {
            return (PatchMerging) layerConf();
        }

        @Override
        protected INDArray forward(INDArray input, boolean training) {
            PatchMerging c = config();
            c.validateInput(input);
            batch = input.size(0);
            int ch = c.getHiddenSize(), h2 = c.outputHeight(), w2 = c.outputWidth(), prompts = c.getPromptTokens();
            INDArray map = Nd4j.zeros(input.dataType(), batch, 2L * h2, 2L * w2, ch);       // padded [B, Hp, Wp, C]
            map.get(NDArrayIndex.all(), NDArrayIndex.interval(0, c.getGridHeight()),
                    NDArrayIndex.interval(0, c.getGridWidth()), NDArrayIndex.all())
                    .assign(input.get(NDArrayIndex.all(), NDArrayIndex.interval(prompts, c.inputTokens()),
                            NDArrayIndex.all()).dup('c').reshape('c', batch, c.getGridHeight(), c.getGridWidth(), ch));
            // [B, H2, dy, W2, dx, C] → [B, H2, W2, dx, dy, C] → [B, H2·W2, 4C]
            INDArray merged = map.reshape('c', batch, h2, 2, w2, 2, ch).permute(0, 1, 3, 4, 2, 5).dup('c')
                    .reshape('c', batch, (long) h2 * w2, 4L * ch);
            if (prompts > 0) {
                INDArray p = input.get(NDArrayIndex.all(), NDArrayIndex.interval(0, prompts), NDArrayIndex.all());
                merged = Nd4j.concat(1, Nd4j.concat(2, p, p, p, p), merged);                 // [B, P+H2·W2, 4C]
            }
            merged = merged.reshape('c', batch * c.outputTokens(), 4L * ch);
            LayerNormKernel.Cache[] cache = new LayerNormKernel.Cache[1];
            normed = LayerNormKernel.forward(merged, weights().get(NORM_GAMMA), weights().get(NORM_BETA),
                    c.getLayerNormEps(), cache);
            norm = cache[0];
            return LinearKernel.forward(normed, weights().get(REDUCTION_W), null)
                    .reshape('c', batch, c.outputTokens(), 2L * ch);
        }

        @Override
        protected INDArray backward(INDArray epsilon) {
            PatchMerging c = config();
            Map<String, INDArray> g = gradientViews();
            int ch = c.getHiddenSize(), h2 = c.outputHeight(), w2 = c.outputWidth(), prompts = c.getPromptTokens();
            INDArray dOut = epsilon.dup('c').reshape('c', batch * c.outputTokens(), 2L * ch);
            INDArray dNormed = LinearKernel.backward(dOut, normed, weights().get(REDUCTION_W),
                    c.trainableGradient(g, REDUCTION_W), null, true);
            INDArray dMerged = LayerNormKernel.backward(dNormed, norm, weights().get(NORM_GAMMA),
                    c.trainableGradient(g, NORM_GAMMA), c.trainableGradient(g, NORM_BETA));
            INDArray perImage = dMerged.reshape('c', batch, c.outputTokens(), 4L * ch);
            // [B, H2, W2, dx, dy, C] → [B, H2, dy, W2, dx, C] = the padded map; crop it
            INDArray map = perImage.get(NDArrayIndex.all(), NDArrayIndex.interval(prompts, c.outputTokens()),
                    NDArrayIndex.all()).dup('c').reshape('c', batch, h2, w2, 2, 2, ch).permute(0, 1, 4, 2, 3, 5)
                    .dup('c').reshape('c', batch, 2L * h2, 2L * w2, ch);
            INDArray dMap = map.get(NDArrayIndex.all(), NDArrayIndex.interval(0, c.getGridHeight()),
                    NDArrayIndex.interval(0, c.getGridWidth()), NDArrayIndex.all()).dup('c')
                    .reshape('c', batch, (long) c.getGridHeight() * c.getGridWidth(), ch);
            if (prompts == 0) {
                return dMap;
            }
            // each prompt fed all four copies: their gradients add
            INDArray dPrompts = perImage.get(NDArrayIndex.all(), NDArrayIndex.interval(0, prompts), NDArrayIndex.all())
                    .dup('c').reshape('c', batch, prompts, 4, ch).sum(2);
            return Nd4j.concat(1, dPrompts, dMap);
        }
    }

    /** Builder; defaults: LayerNorm eps 1e-5, frozen. */
    public static class Builder extends BackboneLayer.Builder<Builder> {
        private int hiddenSize;
        private int gridHeight;
        private int gridWidth;
        private double layerNormEps = 1e-5;
        private int promptTokens;

        /** Width C of the incoming tokens (the output is 2C wide). */
        public Builder hiddenSize(int hiddenSize) {
            this.hiddenSize = hiddenSize;
            return this;
        }

        /** The incoming token map: {@code height × width} tokens, row-major. */
        public Builder grid(int height, int width) {
            this.gridHeight = height;
            this.gridWidth = width;
            return this;
        }

        /** ε of the LayerNorm; default 1e-5. */
        public Builder layerNormEps(double layerNormEps) {
            this.layerNormEps = layerNormEps;
            return this;
        }

        /** P, VPT's prompt tokens in front of the map (see the class comment); default 0, the plain backbone. */
        public Builder promptTokens(int promptTokens) {
            this.promptTokens = promptTokens;
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public PatchMerging build() {
            return new PatchMerging(this);
        }
    }
}
