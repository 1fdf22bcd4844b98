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

    private PatchMerging(Builder b) {
        super(b);
        hiddenSize = b.hiddenSize;
        gridHeight = b.gridHeight;
        gridWidth = b.gridWidth;
        layerNormEps = b.layerNormEps;
        validate();
    }

    @Override
    public void validate() {
        require(hiddenSize > 0, "hiddenSize", "> 0", hiddenSize);
        require(gridHeight > 0, "gridHeight", "> 0", gridHeight);
        require(gridWidth > 0, "gridWidth", "> 0", gridWidth);
        require(layerNormEps > 0, "layerNormEps", "> 0", layerNormEps);
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
        SDVariable map = input.reshape(-1, gridHeight, gridWidth, c);
        if (gridHeight % 2 == 1 || gridWidth % 2 == 1) {
            map = sd.nn().pad(map, sd.constant(Nd4j.createFromArray(new int[][]{{0, 0}, {0, gridHeight % 2},
                    {0, gridWidth % 2}, {0, 0}})), 0.0);
        }
        // [B, H2, dy, W2, dx, C] → [B, H2, W2, dx, dy, C]: channel block dx·2 + dy is x[dy::2, dx::2]
        SDVariable merged = map.reshape(-1, h2, 2, w2, 2, c).permute(0, 1, 3, 4, 2, 5)
                .reshape(-1, (long) h2 * w2, 4L * c);
        SDVariable normed = SameDiffReference.layerNorm(merged, p.get(NORM_GAMMA), p.get(NORM_BETA), layerNormEps,
                (long) h2 * w2, 4L * c);
        return normed.reshape(-1, 4L * c).mmul(p.get(REDUCTION_W)).reshape(-1, (long) h2 * w2, 2L * c);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        if (!(inputType instanceof InputType.InputTypeRecurrent rnn) || rnn.getSize() != hiddenSize
                || (rnn.getTimeSeriesLength() > 0 && rnn.getTimeSeriesLength() != (long) gridHeight * gridWidth)) {
            throw new IllegalArgumentException(describe() + ": input must be token maps InputType.recurrent("
                    + hiddenSize + ", " + gridHeight * gridWidth + ", RNNFormat.NWC) (a " + gridHeight + "x"
                    + gridWidth + " map), got " + inputType);
        }
        return InputType.recurrent(2L * hiddenSize, (long) outputHeight() * outputWidth(), RNNFormat.NWC);
    }

    @Override
    public void validateInput(INDArray input) {
        if (input.rank() != 3 || input.size(1) != (long) gridHeight * gridWidth || input.size(2) != hiddenSize) {
            throw new IllegalArgumentException(describe() + ": input has shape " + Arrays.toString(input.shape())
                    + ", expected [batch, " + gridHeight * gridWidth + ", " + hiddenSize + "] (a " + gridHeight + "x"
                    + gridWidth + " map)");
        }
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
            int ch = c.getHiddenSize(), h2 = c.outputHeight(), w2 = c.outputWidth();
            INDArray map = Nd4j.zeros(input.dataType(), batch, 2L * h2, 2L * w2, ch);       // padded [B, Hp, Wp, C]
            map.get(NDArrayIndex.all(), NDArrayIndex.interval(0, c.getGridHeight()),
                    NDArrayIndex.interval(0, c.getGridWidth()), NDArrayIndex.all())
                    .assign(input.reshape('c', batch, c.getGridHeight(), c.getGridWidth(), ch));
            // [B, H2, dy, W2, dx, C] → [B, H2, W2, dx, dy, C] → [B·H2·W2, 4C]
            INDArray merged = map.reshape('c', batch, h2, 2, w2, 2, ch).permute(0, 1, 3, 4, 2, 5).dup('c')
                    .reshape('c', batch * h2 * w2, 4L * ch);
            LayerNormKernel.Cache[] cache = new LayerNormKernel.Cache[1];
            normed = LayerNormKernel.forward(merged, weights().get(NORM_GAMMA), weights().get(NORM_BETA),
                    c.getLayerNormEps(), cache);
            norm = cache[0];
            return LinearKernel.forward(normed, weights().get(REDUCTION_W), null)
                    .reshape('c', batch, (long) h2 * w2, 2L * ch);
        }

        @Override
        protected INDArray backward(INDArray epsilon) {
            PatchMerging c = config();
            Map<String, INDArray> g = gradientViews();
            int ch = c.getHiddenSize(), h2 = c.outputHeight(), w2 = c.outputWidth();
            INDArray dOut = epsilon.dup('c').reshape('c', batch * h2 * w2, 2L * ch);
            INDArray dNormed = LinearKernel.backward(dOut, normed, weights().get(REDUCTION_W),
                    c.trainableGradient(g, REDUCTION_W), null, true);
            INDArray dMerged = LayerNormKernel.backward(dNormed, norm, weights().get(NORM_GAMMA),
                    c.trainableGradient(g, NORM_GAMMA), c.trainableGradient(g, NORM_BETA));
            // [B, H2, W2, dx, dy, C] → [B, H2, dy, W2, dx, C] = the padded map; crop it
            INDArray map = dMerged.reshape('c', batch, h2, w2, 2, 2, ch).permute(0, 1, 4, 2, 3, 5).dup('c')
                    .reshape('c', batch, 2L * h2, 2L * w2, ch);
            return map.get(NDArrayIndex.all(), NDArrayIndex.interval(0, c.getGridHeight()),
                    NDArrayIndex.interval(0, c.getGridWidth()), NDArrayIndex.all()).dup('c')
                    .reshape('c', batch, (long) c.getGridHeight() * c.getGridWidth(), ch);
        }
    }

    /** Builder; defaults: LayerNorm eps 1e-5, frozen. */
    public static class Builder extends BackboneLayer.Builder<Builder> {
        private int hiddenSize;
        private int gridHeight;
        private int gridWidth;
        private double layerNormEps = 1e-5;

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

        @Override
        @SuppressWarnings("unchecked")
        public PatchMerging build() {
            return new PatchMerging(this);
        }
    }
}
