package org.sa2vp.baseline;

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
import org.sa2vp.layers.runtime.DropoutKernel;
import org.sa2vp.layers.runtime.FastLayer;

import java.util.Arrays;
import java.util.Map;

/**
 * VPT's learnable prompt tokens (Jia et al., ECCV 2022) on a token map {@code [B, T, D]} that starts with L leading
 * tokens ({@code leadingTokens}: 1, the ViT's class token, by default; 0 on the Swin, which has none). The layer
 * writes its prompts {@code [P, D]} (the only, trainable, parameter {@value #PROMPTS}) to positions
 * {@code L … L+P−1}, the same prompts for every sample, after dropout (shown for L = 1):
 * <pre>
 *   INSERT  [cls ; x₁ … x_{T−1}]             → [cls ; Dropout(prompts) ; x₁ … x_{T−1}]      [B, T+P, D]
 *   REPLACE [cls ; q₁ … q_P ; x_{P+1} … ]    → [cls ; Dropout(prompts) ; x_{P+1} … ]         [B, T, D]
 * </pre>
 * INSERT comes before the first frozen block (VPT-shallow, and block 0 of VPT-deep); REPLACE comes before every
 * later block of VPT-deep, dropping the previous block's outputs at the prompt positions. Prompts carry no
 * position embedding. It is concatenation and slicing, so the backward pass is written out: the input gradient
 * is the output gradient at the carried positions (zero at replaced ones), the prompt gradient its sum over the
 * batch at positions {@code L … L+P−1}, through the dropout mask.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public class VisualPromptTokens extends BackboneLayer {

    public static final String PROMPTS = "prompts";

    /** Where the prompts go: inserted after the class token, or in place of the tokens after it. */
    public enum Placement {
        INSERT,
        REPLACE
    }

    private int hiddenSize;
    private int numPrompts;
    private Placement placement = Placement.INSERT;
    /** VPT's {@code prompt_dropout} on the prompt tokens (per sample), 0 by default. */
    private double promptDropout;
    /** Prompts start as U(−initBound, initBound). */
    private double initBound;
    /** L, tokens kept in front of the prompts: 1 (the class token, default) or 0 (a map without one). */
    private int leadingTokens = 1;

    private VisualPromptTokens(Builder b) {
        super(b);
        hiddenSize = b.hiddenSize;
        numPrompts = b.numPrompts;
        placement = b.placement;
        promptDropout = b.promptDropout;
        initBound = b.initBound;
        leadingTokens = b.leadingTokens;
        validate();
    }

    /**
     * VPT's initialisation range {@code √(6 / (C·p² + D))}: Xavier-uniform as if the prompts came out of the patch
     * projection ({@code C·p²} inputs to {@code D} outputs). VPT writes 3 for {@code C}; grey images use 1.
     */
    public static double vptInitBound(int inChannels, int patchSize, int hiddenSize) {
        return Math.sqrt(6.0 / ((double) inChannels * patchSize * patchSize + hiddenSize));
    }

    @Override
    public void validate() {
        require(hiddenSize > 0, "hiddenSize", "> 0", hiddenSize);
        require(numPrompts > 0, "numPrompts", "> 0", numPrompts);
        require(placement != null, "placement", "INSERT or REPLACE", placement);
        require(promptDropout >= 0 && promptDropout < 1, "promptDropout", "in [0, 1)", promptDropout);
        require(initBound >= 0, "initBound", ">= 0", initBound);
        require(leadingTokens >= 0, "leadingTokens", ">= 0", leadingTokens);
    }

    @Override
    public boolean usesDropout() {
        return promptDropout > 0;
    }

    /** The prompts are the layer's own, trainable, parameter: never part of the frozen backbone. */
    @Override
    public boolean isBackboneParam(String param) {
        return false;
    }

    /** Index of the first input token carried to the output (after the leading tokens and any replaced prompts). */
    public int firstCarriedToken() {
        return placement == Placement.INSERT ? leadingTokens : leadingTokens + numPrompts;
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        params.addWeightParam(PROMPTS, numPrompts, hiddenSize);
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        ParameterInit.uniform(params.get(PROMPTS), initBound);
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, Map<String, SDVariable> p, SDVariable mask) {
        long tokens = input.getShape()[1];
        // [B, 1, D]·0 + [1, P, D] broadcasts the prompts to every sample.
        SDVariable prompts = input.get(SDIndex.all(), SDIndex.interval(0L, 1L), SDIndex.all()).mul(0.0)
                .add(p.get(PROMPTS).reshape(1, numPrompts, hiddenSize));
        SDVariable carried = input.get(SDIndex.all(), SDIndex.interval((long) firstCarriedToken(), tokens),
                SDIndex.all());
        if (leadingTokens == 0) {
            return sd.concat(1, prompts, carried);
        }
        return sd.concat(1, input.get(SDIndex.all(), SDIndex.interval(0L, (long) leadingTokens), SDIndex.all()),
                prompts, carried);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        if (!(inputType instanceof InputType.InputTypeRecurrent rnn) || rnn.getSize() != hiddenSize
                || rnn.getTimeSeriesLength() < firstCarriedToken()) {
            throw new IllegalArgumentException("VisualPromptTokens '" + getLayerName() + "': input must be token maps "
                    + "InputType.recurrent(" + hiddenSize + ", T >= " + firstCarriedToken() + ", RNNFormat.NWC), got "
                    + inputType);
        }
        long tokens = rnn.getTimeSeriesLength() - firstCarriedToken() + leadingTokens + numPrompts;
        return InputType.recurrent(hiddenSize, tokens, RNNFormat.NWC);
    }

    @Override
    public void validateInput(INDArray input) {
        if (input.rank() != 3 || input.size(2) != hiddenSize || input.size(1) < firstCarriedToken()) {
            throw new IllegalArgumentException("VisualPromptTokens '" + getLayerName() + "': input has shape "
                    + Arrays.toString(input.shape()) + ", expected [batch, tokens >= " + firstCarriedToken() + ", "
                    + hiddenSize + "]");
        }
    }

    @Override
    protected FastLayer createFastRuntime(NeuralNetConfiguration conf, DataType dataType) {
        return new FastRuntime(conf, dataType);
    }

    /** Concatenation forward, slicing backward; one dropout mask {@code [B, P, D]} per training pass. */
    static final class FastRuntime extends FastLayer {
        private INDArray dropoutMask;
        private long[] inputShape;

        FastRuntime(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        private VisualPromptTokens config() {
            return (VisualPromptTokens) layerConf();
        }

        @Override
        protected INDArray forward(INDArray input, boolean training) {
            VisualPromptTokens c = config();
            c.validateInput(input);
            inputShape = input.shape();
            long batch = input.size(0), p = c.getNumPrompts(), d = c.getHiddenSize(), lead = c.getLeadingTokens();
            INDArray prompts = weights().get(PROMPTS).reshape('c', 1, p, d).broadcast(batch, p, d);
            dropoutMask = DropoutKernel.mask(prompts, c.getPromptDropout(), training);
            INDArray promptTokens = DropoutKernel.apply(prompts, dropoutMask);
            INDArray carried = input.get(NDArrayIndex.all(), NDArrayIndex.interval(c.firstCarriedToken(),
                    input.size(1)), NDArrayIndex.all());
            return lead == 0 ? Nd4j.concat(1, promptTokens, carried) : Nd4j.concat(1, input.get(NDArrayIndex.all(),
                    NDArrayIndex.interval(0, lead), NDArrayIndex.all()), promptTokens, carried);
        }

        @Override
        protected INDArray backward(INDArray epsilon) {
            VisualPromptTokens c = config();
            long p = c.getNumPrompts(), outTokens = epsilon.size(1), lead = c.getLeadingTokens();
            INDArray dPrompts = epsilon.get(NDArrayIndex.all(), NDArrayIndex.interval(lead, lead + p),
                    NDArrayIndex.all());
            if (dropoutMask != null) {
                dPrompts = dPrompts.mul(dropoutMask);
            }
            c.trainableGradient(gradientViews(), PROMPTS).addi(dPrompts.sum(0));
            INDArray dx = Nd4j.zeros(epsilon.dataType(), inputShape);
            if (lead > 0) {
                dx.get(NDArrayIndex.all(), NDArrayIndex.interval(0, lead), NDArrayIndex.all())
                        .assign(epsilon.get(NDArrayIndex.all(), NDArrayIndex.interval(0, lead), NDArrayIndex.all()));
            }
            dx.get(NDArrayIndex.all(), NDArrayIndex.interval(c.firstCarriedToken(), inputShape[1]), NDArrayIndex.all())
                    .assign(epsilon.get(NDArrayIndex.all(), NDArrayIndex.interval(lead + p, outTokens),
                            NDArrayIndex.all()));
            return dx;
        }
    }

    /**
     * Builder; defaults: INSERT after one leading token, no prompt dropout, prompts initialised to zero unless
     * {@code initBound} is set.
     */
    public static class Builder extends BackboneLayer.Builder<Builder> {
        private int hiddenSize;
        private int numPrompts;
        private Placement placement = Placement.INSERT;
        private double promptDropout;
        private double initBound;
        private int leadingTokens = 1;

        /** Token width D. */
        public Builder hiddenSize(int hiddenSize) {
            this.hiddenSize = hiddenSize;
            return this;
        }

        /** Prompt tokens P. */
        public Builder numPrompts(int numPrompts) {
            this.numPrompts = numPrompts;
            return this;
        }

        /** {@code INSERT} (default) before the first block, {@code REPLACE} before every later block of VPT-deep. */
        public Builder placement(Placement placement) {
            this.placement = placement;
            return this;
        }

        /** Dropout on the prompts while training; default 0. */
        public Builder promptDropout(double promptDropout) {
            this.promptDropout = promptDropout;
            return this;
        }

        /** Half-width of the uniform initialisation (see {@link #vptInitBound}). */
        public Builder initBound(double initBound) {
            this.initBound = initBound;
            return this;
        }

        /** L, tokens kept in front of the prompts: 1 (default, the ViT's class token) or 0 (the Swin's map). */
        public Builder leadingTokens(int leadingTokens) {
            this.leadingTokens = leadingTokens;
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public VisualPromptTokens build() {
            return new VisualPromptTokens(this);
        }
    }
}
