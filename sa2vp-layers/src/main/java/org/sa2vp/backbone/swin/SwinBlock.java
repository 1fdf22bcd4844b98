package org.sa2vp.backbone.swin;

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
import org.sa2vp.layers.BlockParameters;
import org.sa2vp.layers.ParameterInit;
import org.sa2vp.layers.SameDiffReference;
import org.sa2vp.layers.runtime.AttentionWeights;
import org.sa2vp.layers.runtime.BlockWeights;
import org.sa2vp.layers.runtime.FastLayer;
import org.sa2vp.layers.runtime.ShiftedWindows;
import org.sa2vp.layers.runtime.SwinBlockKernel;

import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * One Swin Transformer block on a token map {@code [B, H·W, D]} of {@code gridHeight × gridWidth} tokens
 * ({@code InputType.recurrent(D, H·W, RNNFormat.NWC)}):
 * <pre>
 *   x = x + DropPath(proj(W-MSA(LN1(x))))     (window attention, heads of D/H, scale (D/H)^−½)
 *   x = x + DropPath(fc2(GELU(fc1(LN2(x)))))  (exact erf GELU, width M)
 * </pre>
 * Window attention as torchvision 0.14 computes it ({@link ShiftedWindows}): the normalised map is padded bottom and
 * right with zeros to multiples of the window, cyclically shifted by {@code shiftSize} (the block's requested shift:
 * 0 on even blocks, window/2 on odd ones; 0 along an axis whose padded size is one window), cut into windows in
 * which tokens attend with the learned relative position bias of their head and, when shifted, the −100 mask between
 * regions, then shifted back and cropped. timm and Hugging Face pad too; timm rolls before padding, and timm, Hugging
 * Face and Microsoft's original code shrink the window to a map that is no larger than it (the standard variants
 * never meet either case; see {@link ShiftedWindows}).
 *
 * <p>Drop path (stochastic depth) drops each sample's residual branch with probability {@code dropPath} and scales
 * kept ones by 1/(1−p), two independent draws per block, in training only, FAST runtime only.
 *
 * <p>Prompt tokens (VPT on Swin, {@code promptTokens} P > 0): the input is {@code [B, P + H·W, D]}, the P prompts
 * first. They go through both LayerNorms, the MLP and the residuals as every token; in the attention each window of
 * an image sees its P (normalised) prompts in front of its N tokens, with no position bias and no mask between a
 * prompt and any token (VPT's {@code PromptedWindowAttention}), and a prompt's attention output is the mean over the
 * image's windows (VPT's {@code PromptedSwinTransformerBlock}).
 *
 * <p>Parameters: a ViT block's ({@link BlockWeights#NAMES}, x·W layouts) and {@code relativePositionBias}
 * {@code [(2w−1)², H]}, the learned table indexed by {@link ShiftedWindows#relativePositionIndex}.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public class SwinBlock extends BackboneLayer {

    public static final String RELATIVE_POSITION_BIAS = "relativePositionBias";

    private static final Set<String> QKV_BIASES = Set.of(AttentionWeights.QUERY_B, AttentionWeights.KEY_B,
            AttentionWeights.VALUE_B);

    private int hiddenSize;
    private int numHeads;
    private int mlpSize;
    private int gridHeight;
    private int gridWidth;
    private int windowSize = 7;
    private int shiftSize;
    private double layerNormEps = 1e-5;
    private boolean qkvBias = true;
    private double dropPath;
    /** P, prompt tokens in front of the map (VPT); 0 for the plain backbone. */
    private int promptTokens;

    private SwinBlock(Builder b) {
        super(b);
        hiddenSize = b.hiddenSize;
        numHeads = b.numHeads;
        mlpSize = b.mlpSize;
        gridHeight = b.gridHeight;
        gridWidth = b.gridWidth;
        windowSize = b.windowSize;
        shiftSize = b.shiftSize;
        layerNormEps = b.layerNormEps;
        qkvBias = b.qkvBias;
        dropPath = b.dropPath;
        promptTokens = b.promptTokens;
        validate();
    }

    @Override
    public void validate() {
        require(hiddenSize > 0, "hiddenSize", "> 0", hiddenSize);
        require(numHeads > 0 && hiddenSize % numHeads == 0, "numHeads", "a divisor of hiddenSize " + hiddenSize,
                numHeads);
        require(mlpSize > 0, "mlpSize", "> 0", mlpSize);
        require(gridHeight > 0, "gridHeight", "> 0", gridHeight);
        require(gridWidth > 0, "gridWidth", "> 0", gridWidth);
        require(windowSize > 0, "windowSize", "> 0", windowSize);
        require(shiftSize >= 0 && shiftSize < windowSize, "shiftSize", "in [0, windowSize " + windowSize + ")",
                shiftSize);
        require(layerNormEps > 0, "layerNormEps", "> 0", layerNormEps);
        require(dropPath >= 0 && dropPath < 1, "dropPath", "in [0, 1)", dropPath);
        require(promptTokens >= 0, "promptTokens", ">= 0", promptTokens);
    }

    /** The block's window layout, with the shift it actually applies. */
    public ShiftedWindows windows() {
        return ShiftedWindows.of(gridHeight, gridWidth, windowSize, shiftSize);
    }

    /** Tokens of the map, {@code H·W}. */
    public int numTokens() {
        return gridHeight * gridWidth;
    }

    /** Tokens of the input and output: the prompts and the map, {@code P + H·W}. */
    public int inputTokens() {
        return promptTokens + numTokens();
    }

    @Override
    public boolean usesDropout() {
        return dropPath > 0;
    }

    @Override
    public boolean isFixedParam(String param) {
        return !qkvBias && QKV_BIASES.contains(param);
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        BlockParameters.define(params, hiddenSize, mlpSize);
        params.addWeightParam(RELATIVE_POSITION_BIAS, (long) (2 * windowSize - 1) * (2 * windowSize - 1), numHeads);
    }

    /** As {@link BlockParameters#initialize}, and the bias table trunc-normal(0.02) as timm and torchvision. */
    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        BlockParameters.initialize(params);
        ParameterInit.truncatedNormal(params.get(RELATIVE_POSITION_BIAS), 0.02);
    }

    /**
     * The SameDiff reference: padding with {@code pad}, the cyclic shift as two slices concatenated, the windows by
     * reshape and permute, the bias table expanded by a constant one-hot matrix (SameDiff's {@code gather} has no
     * working gradient in M2.1) and the shift mask as a constant. The one-hot matrix holds {@code N²·(2w−1)²} values
     * per block (0.4 M for window 7, 11 M for window 12): a reference for checks, not for training at scale.
     */
    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, Map<String, SDVariable> p, SDVariable mask) {
        ShiftedWindows w = windows();
        int d = hiddenSize, heads = numHeads, size = windowSize, n = w.windowTokens(), nw = w.windows();
        int hp = w.paddedHeight(), wp = w.paddedWidth();
        int prompts = promptTokens, m = prompts + n;
        long t = inputTokens();
        DataType type = input.dataType();
        SDVariable normed = SameDiffReference.layerNorm(input, p.get(BlockWeights.NORM1 + "Gamma"),
                p.get(BlockWeights.NORM1 + "Beta"), layerNormEps, t, d);
        SDVariable map = normed.get(SDIndex.all(), SDIndex.interval((long) prompts, t), SDIndex.all())
                .reshape(-1, gridHeight, gridWidth, d);
        if (hp > gridHeight || wp > gridWidth) {
            map = sd.nn().pad(map, sd.constant(Nd4j.createFromArray(new int[][]{{0, 0}, {0, hp - gridHeight},
                    {0, wp - gridWidth}, {0, 0}})), 0.0);
        }
        map = roll(sd, roll(sd, map, 1, w.shiftHeight(), hp), 2, w.shiftWidth(), wp);
        SDVariable windowed = map.reshape(-1, hp / size, size, wp / size, size, d).permute(0, 1, 3, 2, 4, 5)
                .reshape(-1, n, d);                                                         // [B·nW, N, D]
        if (prompts > 0) {
            // every window of an image gets its prompts in front: [B, 1, P, D] + 0·[1, nW, 1, 1] → [B·nW, P, D]
            SDVariable promptRows = normed.get(SDIndex.all(), SDIndex.interval(0L, (long) prompts), SDIndex.all())
                    .reshape(-1, 1, prompts, d).add(sd.constant(Nd4j.zeros(type, 1, nw, 1, 1))).reshape(-1, prompts, d);
            windowed = sd.concat(1, promptRows, windowed);                                  // [B·nW, P+N, D]
        }
        long headDim = d / heads;
        SDVariable q = toHeads(SameDiffReference.linear(windowed, p.get(AttentionWeights.QUERY_W),
                p.get(AttentionWeights.QUERY_B), m, d, d), m, heads, headDim);
        SDVariable k = toHeads(SameDiffReference.linear(windowed, p.get(AttentionWeights.KEY_W),
                p.get(AttentionWeights.KEY_B), m, d, d), m, heads, headDim);
        SDVariable v = toHeads(SameDiffReference.linear(windowed, p.get(AttentionWeights.VALUE_W),
                p.get(AttentionWeights.VALUE_B), m, d, d), m, heads, headDim);
        // bias [H, N, N] = (one-hot [N·N, (2w−1)²] · table [(2w−1)², H])ᵀ; with prompts zero rows and columns
        // in front, [H, P+N, P+N], by two concatenations with constants
        SDVariable bias = sd.constant(oneHotIndex(type)).mmul(p.get(RELATIVE_POSITION_BIAS)).permute(1, 0)
                .reshape(heads, n, n);
        if (prompts > 0) {
            bias = sd.concat(1, sd.constant(Nd4j.zeros(type, heads, prompts, n)), bias);
            bias = sd.concat(2, sd.constant(Nd4j.zeros(type, heads, m, prompts)), bias);
        }
        SDVariable scores = sd.mmul(q, k, false, true, false).mul(1.0 / Math.sqrt(headDim)).add(bias);
        if (w.shifted()) {
            scores = scores.reshape(-1, nw, heads, m, m).add(sd.constant(headsMask(w, type))).reshape(-1, heads, m, m);
        }
        SDVariable attended = sd.mmul(sd.nn().softmax(scores, 3), v).permute(0, 2, 1, 3).reshape(-1, m, d);
        SDVariable promptsOut = null;
        if (prompts > 0) {
            // each prompt's output: the mean over the image's windows, [B, P, D]
            promptsOut = attended.get(SDIndex.all(), SDIndex.interval(0L, (long) prompts), SDIndex.all())
                    .reshape(-1, nw, prompts, d).mean(1);
            attended = attended.get(SDIndex.all(), SDIndex.interval((long) prompts, (long) m), SDIndex.all());
        }
        SDVariable back = attended.reshape(-1, hp / size, wp / size, size, size, d).permute(0, 1, 3, 2, 4, 5)
                .reshape(-1, hp, wp, d);
        back = roll(sd, roll(sd, back, 1, hp - w.shiftHeight(), hp), 2, wp - w.shiftWidth(), wp);
        SDVariable cropped = back.get(SDIndex.all(), SDIndex.interval(0L, (long) gridHeight),
                SDIndex.interval(0L, (long) gridWidth), SDIndex.all()).reshape(-1, numTokens(), d);
        if (prompts > 0) {
            cropped = sd.concat(1, promptsOut, cropped);                                   // [B, P+T, D]
        }
        SDVariable x1 = SameDiffReference.linear(cropped, p.get(AttentionWeights.OUT_W), p.get(AttentionWeights.OUT_B),
                t, d, d).add(input);
        SDVariable normed2 = SameDiffReference.layerNorm(x1, p.get(BlockWeights.NORM2_GAMMA),
                p.get(BlockWeights.NORM2_BETA), layerNormEps, t, d);
        SDVariable hidden = SameDiffReference.gelu(SameDiffReference.linear(normed2, p.get(BlockWeights.FC1_W),
                p.get(BlockWeights.FC1_B), t, d, mlpSize));
        return SameDiffReference.linear(hidden, p.get(BlockWeights.FC2_W), p.get(BlockWeights.FC2_B), t, mlpSize, d)
                .add(x1);
    }

    /** {@code torch.roll(x, −shift, axis)} of a 4-D map {@code size} long on {@code axis}: [shift, size) then [0, shift). */
    private static SDVariable roll(SameDiff sd, SDVariable x, int axis, int shift, int size) {
        if (shift % size == 0) {
            return x;
        }
        SDIndex[] tail = {SDIndex.all(), SDIndex.all(), SDIndex.all(), SDIndex.all()};
        SDIndex[] head = tail.clone();
        tail[axis] = SDIndex.interval((long) shift, (long) size);
        head[axis] = SDIndex.interval(0L, (long) shift);
        return sd.concat(axis, x.get(tail), x.get(head));
    }

    /** {@code [B', N, D]} → {@code [B', H, N, D/H]}. */
    private static SDVariable toHeads(SDVariable x, long tokens, long heads, long headDim) {
        return x.reshape(-1, tokens, heads, headDim).permute(0, 2, 1, 3);
    }

    /** {@code [N·N, (2w−1)²]}: row {@code i·N + j} is one at the table row of the pair (i, j). */
    private INDArray oneHotIndex(DataType type) {
        int[] index = ShiftedWindows.relativePositionIndex(windowSize);
        int rows = (2 * windowSize - 1) * (2 * windowSize - 1);
        INDArray oneHot = Nd4j.zeros(type, index.length, rows);
        for (int pair = 0; pair < index.length; pair++) {
            oneHot.putScalar(pair, index[pair], 1.0);
        }
        return oneHot;
    }

    /** The shift mask repeated for every head, {@code [nW, H, P+N, P+N]} (zero in the prompts' rows and columns). */
    private INDArray headsMask(ShiftedWindows w, DataType type) {
        INDArray mask = w.shiftMask(type);
        int n = w.windowTokens(), m = promptTokens + n;
        INDArray out = Nd4j.zeros(type, w.windows(), numHeads, m, m);
        for (int h = 0; h < numHeads; h++) {
            out.get(NDArrayIndex.all(), NDArrayIndex.point(h), NDArrayIndex.interval(promptTokens, m),
                    NDArrayIndex.interval(promptTokens, m)).assign(mask);
        }
        return out;
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        if (!(inputType instanceof InputType.InputTypeRecurrent rnn) || rnn.getSize() != hiddenSize
                || (rnn.getTimeSeriesLength() > 0 && rnn.getTimeSeriesLength() != inputTokens())) {
            throw new IllegalArgumentException(describe() + ": input must be token maps InputType.recurrent("
                    + hiddenSize + ", " + inputTokens() + ", RNNFormat.NWC) (" + promptsText() + "a " + gridHeight
                    + "x" + gridWidth + " map), got " + inputType);
        }
        return inputType;
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

    /** Hand-written runtime on {@link SwinBlockKernel}. */
    static final class FastRuntime extends FastLayer {
        private SwinBlockKernel.Cache cache;

        FastRuntime(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        private SwinBlock config() {
            return (SwinBlock) layerConf();
        }

        @Override
        protected INDArray forward(INDArray input, boolean training) {
            return forward(input, training, null);
        }

        @Override
        protected INDArray forward(INDArray input, boolean training, UnaryOperator<INDArray> keepOutput) {
            SwinBlock c = config();
            c.validateInput(input);
            int batch = (int) input.size(0);
            // A view of the input when it is c-ordered, no copy of the whole map in the layer's cache: the kernel only
            // reads it, and backward's LN1 reads it again, which holds as DL4J keeps a layer's input until backward.
            SwinBlockKernel.Result r = SwinBlockKernel.forward(
                    input.reshape('c', batch * input.size(1), input.size(2)), weights(weights()), c.windows(),
                    c.getPromptTokens(), c.getNumHeads(), batch, c.getLayerNormEps(), c.getDropPath(), training,
                    trainableGradients(), keepOutput == null ? null
                            : out -> keepOutput.apply(out.reshape('c', input.shape())));
            cache = r.cache();
            return r.output().reshape('c', input.shape());
        }

        @Override
        protected INDArray backward(INDArray epsilon) {
            INDArray dx = SwinBlockKernel.backward(epsilon.dup('c').reshape('c', epsilon.size(0) * epsilon.size(1),
                    epsilon.size(2)), cache, weights(weights()), trainableGradients());
            return dx.reshape('c', epsilon.shape());
        }

        private static SwinBlockKernel.Weights weights(Map<String, INDArray> table) {
            return new SwinBlockKernel.Weights(BlockWeights.from(table), table.get(RELATIVE_POSITION_BIAS));
        }

        /** The gradient record with entries only for the parameters that train; null before gradients exist. */
        private SwinBlockKernel.Weights trainableGradients() {
            Map<String, INDArray> trainable = config().trainableGradients(gradientViews());
            return trainable == null ? null : weights(trainable);
        }
    }

    /** Builder; defaults: window 7, no shift, LayerNorm eps 1e-5, qkv bias, no drop path, frozen. */
    public static class Builder extends BackboneLayer.Builder<Builder> {
        private int hiddenSize;
        private int numHeads;
        private int mlpSize;
        private int gridHeight;
        private int gridWidth;
        private int windowSize = 7;
        private int shiftSize;
        private double layerNormEps = 1e-5;
        private boolean qkvBias = true;
        private double dropPath;
        private int promptTokens;

        /** Token width D. */
        public Builder hiddenSize(int hiddenSize) {
            this.hiddenSize = hiddenSize;
            return this;
        }

        /** Attention heads H; a divisor of D. */
        public Builder numHeads(int numHeads) {
            this.numHeads = numHeads;
            return this;
        }

        /** Width M of the MLP's hidden layer. */
        public Builder mlpSize(int mlpSize) {
            this.mlpSize = mlpSize;
            return this;
        }

        /** The token map the block works on: {@code height × width} tokens, row-major. */
        public Builder grid(int height, int width) {
            this.gridHeight = height;
            this.gridWidth = width;
            return this;
        }

        /** Side w of the square attention windows; default 7. */
        public Builder windowSize(int windowSize) {
            this.windowSize = windowSize;
            return this;
        }

        /**
         * Cyclic shift of the windows, in [0, windowSize): 0 (default) on even blocks, windowSize/2 on odd ones. It is
         * not applied along an axis whose padded map is a single window.
         */
        public Builder shiftSize(int shiftSize) {
            this.shiftSize = shiftSize;
            return this;
        }

        /** ε of both LayerNorms; default 1e-5 (PyTorch's, which Swin checkpoints use). */
        public Builder layerNormEps(double layerNormEps) {
            this.layerNormEps = layerNormEps;
            return this;
        }

        /** Whether the query, key and value projections have biases; default true. */
        public Builder qkvBias(boolean qkvBias) {
            this.qkvBias = qkvBias;
            return this;
        }

        /** Stochastic depth rate of this block (training only); default 0. */
        public Builder dropPath(double dropPath) {
            this.dropPath = dropPath;
            return this;
        }

        /**
         * P, VPT's prompt tokens in front of the map (input and output {@code [B, P + H·W, D]}); default 0, the
         * plain backbone.
         */
        public Builder promptTokens(int promptTokens) {
            this.promptTokens = promptTokens;
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public SwinBlock build() {
            return new SwinBlock(this);
        }
    }
}
