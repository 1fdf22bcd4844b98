package org.sa2vp.layers;

import lombok.Data;
import lombok.EqualsAndHashCode;
import lombok.NoArgsConstructor;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDVertexParams;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.sa2vp.layers.runtime.AdapterActivation;
import org.sa2vp.layers.runtime.AdapterKernel;
import org.sa2vp.layers.runtime.AdapterWeights;
import org.sa2vp.layers.runtime.BlockWeights;
import org.sa2vp.layers.runtime.CrossAttentionKernel;
import org.sa2vp.layers.runtime.LinearKernel;
import org.sa2vp.layers.runtime.TransformerBlockKernel;
import org.sa2vp.layers.runtime.WindowNeighbourhood;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * One SA2VP layer: a frozen pre-LN transformer block applied to the image stream and the prompt stream
 * independently, plus the spatially aligned interaction between them (the authors' encoder loop, one
 * iteration, {@code docs/AUTHORS-CODE.md} §1.3–1.4).
 *
 * <p>Input and output are the two streams packed along the token axis, {@code [B, Ti + Tp, D]}: image tokens
 * first (image grid, optional class token), then prompt tokens (prompt grid, same class-token flag). DL4J
 * vertices have one output, so packing lets layers chain directly. Per layer:
 * <pre>
 *   F    = γ · Adapter(CrossAttn(query = updated stream, keyValue = source stream))   from the ENTERING streams
 *   P'   = Block(P) [+ Block(deepMap) ⊙ deepScale]        deepMap = deepFactors·deepProjW + deepProjB, [Tp, D]
 *   X'   = Block(X)
 *   IMAGE_TO_PROMPT: P' += F        PROMPT_TO_IMAGE: X' += F
 * </pre>
 * The cross attention uses the block's own (shared, frozen) {@code norm1} and q/k/v/out projections. The
 * deep prompt map (optional) is the authors' {@code deep_ppt}/{@code deep_proj}/{@code cross_conv}: a rank-r
 * map, no position embedding, passed through the same block and scaled per channel ({@link PromptFusion}'s
 * rule). Trainable: the adapter and the deep prompt; everything else is the backbone block.
 *
 * <p>Dropout as in the authors' training mode (all 0.1): inside the frozen block's MLP (both streams and the
 * deep map), on the cross-attention output and in the adapter.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public class DualPathwayVertex extends Sa2vpVertex {

    public static final String STREAMS = "streams";
    public static final String ADAPTER = "adapter";
    public static final String DEEP_FACTORS = "deepFactors";
    public static final String DEEP_PROJ_W = "deepProjW";
    public static final String DEEP_PROJ_B = "deepProjB";
    public static final String DEEP_SCALE = "deepScale";

    private static final Set<String> BLOCK_PARAMS = new HashSet<>(Arrays.asList(BlockWeights.NAMES));

    private int hiddenSize;
    private int numHeads;
    private int mlpSize;
    private int windowSize = 3;
    private TokenGrid imageGrid;
    /** Null means the same grid as the image. */
    private TokenGrid promptGrid;
    private boolean classToken = true;
    private InteractionDirection direction = InteractionDirection.PROMPT_TO_IMAGE;
    private AttentionMode attentionMode = AttentionMode.LOCAL;
    /** γ, the weight of the interaction added to the updated stream (the authors' {@code add_scale}). */
    private double gamma = 0.1;
    /** False: the interaction is the cross-attention output alone, without the adapter (ablation "w/o adapter"). */
    private boolean adapter = true;
    private int adapterSize = 16;
    private AdapterActivation adapterActivation = AdapterActivation.GELU;
    private boolean deepPrompt = false;
    private int deepPromptRank = 16;
    private double layerNormEps = 1e-6;
    /** Dropout inside the frozen block's MLP (after GELU and after fc2), both streams. */
    private double blockDropout = 0.1;
    /** Dropout on the cross-attention output projection. */
    private double attentionDropout = 0.1;
    /** Dropout inside the adapter. */
    private double adapterDropout = 0.1;

    private DualPathwayVertex(Builder b) {
        hiddenSize = b.hiddenSize;
        numHeads = b.numHeads;
        mlpSize = b.mlpSize > 0 ? b.mlpSize : 4 * b.hiddenSize;
        windowSize = b.windowSize;
        imageGrid = b.imageGrid;
        promptGrid = b.promptGrid;
        classToken = b.classToken;
        direction = b.direction;
        attentionMode = b.attentionMode;
        gamma = b.gamma;
        adapter = b.adapter;
        adapterSize = b.adapterSize;
        adapterActivation = b.adapterActivation;
        deepPrompt = b.deepPrompt;
        deepPromptRank = b.deepPromptRank;
        layerNormEps = b.layerNormEps;
        blockDropout = b.blockDropout;
        attentionDropout = b.attentionDropout;
        adapterDropout = b.adapterDropout;
        implementation = b.implementation;
        freezeBackboneWeights = b.freezeBackboneWeights;
        validate();
    }

    public TokenGrid effectivePromptGrid() {
        return promptGrid == null ? imageGrid : promptGrid;
    }

    public int imageTokens() {
        return imageGrid.tokens(classToken);
    }

    public int promptTokens() {
        return effectivePromptGrid().tokens(classToken);
    }

    /** The neighbourhood of the cross attention: queries from the updated stream, keys from the source. */
    public WindowNeighbourhood neighbourhood() {
        return direction == InteractionDirection.PROMPT_TO_IMAGE
                ? imageGrid.windowsOver(effectivePromptGrid(), classToken, windowSize, attentionMode)
                : effectivePromptGrid().windowsOver(imageGrid, classToken, windowSize, attentionMode);
    }

    @Override
    public void validate() {
        SpatiallyAlignedCrossAttention.validateAttention(this, hiddenSize, numHeads, windowSize, layerNormEps);
        require(mlpSize > 0, "mlpSize", "> 0", mlpSize);
        require(imageGrid != null && imageGrid.getHeight() > 0 && imageGrid.getWidth() > 0, "imageGrid",
                "a positive height × width", imageGrid);
        TokenGrid p = effectivePromptGrid();
        require(p.getHeight() > 0 && p.getWidth() > 0, "promptGrid", "a positive height × width", p);
        require(direction != null, "direction", "IMAGE_TO_PROMPT or PROMPT_TO_IMAGE", direction);
        require(attentionMode != null, "attentionMode", "LOCAL or GLOBAL", attentionMode);
        require(adapterSize > 0, "adapterSize", "> 0", adapterSize);
        require(adapterActivation != null, "adapterActivation", "GELU or RELU", adapterActivation);
        require(!deepPrompt || deepPromptRank > 0, "deepPromptRank", "> 0 when deepPrompt is on", deepPromptRank);
        require(blockDropout >= 0 && blockDropout < 1, "blockDropout", "in [0, 1)", blockDropout);
        require(attentionDropout >= 0 && attentionDropout < 1, "attentionDropout", "in [0, 1)", attentionDropout);
        require(adapterDropout >= 0 && adapterDropout < 1, "adapterDropout", "in [0, 1)", adapterDropout);
    }

    @Override
    public boolean isBackboneParam(String param) {
        return BLOCK_PARAMS.contains(param);
    }

    @Override
    public boolean usesDropout() {
        return blockDropout > 0 || attentionDropout > 0 || (adapter && adapterDropout > 0);
    }

    @Override
    public void defineParametersAndInputs(SDVertexParams params) {
        params.defineInputs(STREAMS);
        BlockParameters.define(params, hiddenSize, mlpSize);
        if (adapter) {
            params.addBiasParam(AdapterWeights.name(ADAPTER, AdapterWeights.NORM_GAMMA), 1, hiddenSize);
            params.addBiasParam(AdapterWeights.name(ADAPTER, AdapterWeights.NORM_BETA), 1, hiddenSize);
            params.addWeightParam(AdapterWeights.name(ADAPTER, AdapterWeights.DOWN_W), hiddenSize, adapterSize);
            params.addBiasParam(AdapterWeights.name(ADAPTER, AdapterWeights.DOWN_B), 1, adapterSize);
            params.addWeightParam(AdapterWeights.name(ADAPTER, AdapterWeights.UP_W), adapterSize, hiddenSize);
            params.addBiasParam(AdapterWeights.name(ADAPTER, AdapterWeights.UP_B), 1, hiddenSize);
        }
        if (deepPrompt) {
            params.addWeightParam(DEEP_FACTORS, promptTokens(), deepPromptRank);
            params.addWeightParam(DEEP_PROJ_W, deepPromptRank, hiddenSize);
            params.addBiasParam(DEEP_PROJ_B, 1, hiddenSize);
            params.addWeightParam(DEEP_SCALE, 1, hiddenSize);
        }
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        BlockParameters.initialize(params);
        if (adapter) {
            PromptAdapter.initAdapterParams(params, ADAPTER);
        }
        if (deepPrompt) {
            ParameterInit.truncatedNormal(params.get(DEEP_FACTORS), 0.02);
            ParameterInit.xavierUniform(params.get(DEEP_PROJ_W));
            ParameterInit.normal(params.get(DEEP_PROJ_B), 1e-6);
            ParameterInit.normal(params.get(DEEP_SCALE), 0.02);
        }
    }

    @Override
    public SDVariable defineVertex(SameDiff sd, Map<String, SDVariable> inputs, Map<String, SDVariable> p,
                                   Map<String, SDVariable> masks) {
        long ti = imageTokens(), tp = promptTokens(), d = hiddenSize;
        SDVariable packed = inputs.get(STREAMS);
        SDVariable image = packed.get(SDIndex.all(), SDIndex.interval(0L, ti), SDIndex.all());
        SDVariable prompt = packed.get(SDIndex.all(), SDIndex.interval(ti, ti + tp), SDIndex.all());
        SameDiffReference.AttentionParams attention =
                SpatiallyAlignedCrossAttention.attentionParams(p, BlockWeights.NORM1);
        boolean promptToImage = direction == InteractionDirection.PROMPT_TO_IMAGE;
        SDVariable query = promptToImage ? image : prompt;
        SDVariable keyValue = promptToImage ? prompt : image;
        WindowNeighbourhood nb = neighbourhood();
        SDVariable mask = sd.constant("windowMask", nb.additiveMask(dataType == null ? DataType.FLOAT : dataType));
        SDVariable crossed = SameDiffReference.crossAttention(query, keyValue, attention, numHeads,
                nb.queryTokens(), nb.keyTokens(), d, layerNormEps, mask);
        SDVariable interaction = adapter
                ? SameDiffReference.adapter(crossed, p.get(adapterParam(AdapterWeights.NORM_GAMMA)),
                p.get(adapterParam(AdapterWeights.NORM_BETA)), p.get(adapterParam(AdapterWeights.DOWN_W)),
                p.get(adapterParam(AdapterWeights.DOWN_B)), p.get(adapterParam(AdapterWeights.UP_W)),
                p.get(adapterParam(AdapterWeights.UP_B)), adapterActivation, nb.queryTokens(), d, adapterSize,
                layerNormEps).mul(gamma)
                : crossed.sub(query).mul(gamma);

        SDVariable imageOut = block(p, image, ti);
        SDVariable promptOut = block(p, prompt, tp);
        if (deepPrompt) {
            SDVariable deepMap = p.get(DEEP_FACTORS).mmul(p.get(DEEP_PROJ_W)).add(p.get(DEEP_PROJ_B).reshape(-1))
                    .reshape(1, tp, d);
            promptOut = promptOut.add(block(p, deepMap, tp).mul(p.get(DEEP_SCALE).reshape(-1)));
        }
        if (promptToImage) {
            imageOut = imageOut.add(interaction);
        } else {
            promptOut = promptOut.add(interaction);
        }
        return sd.concat(1, imageOut, promptOut);
    }

    private SDVariable block(Map<String, SDVariable> p, SDVariable x, long tokens) {
        return BlockParameters.reference(x, p, numHeads, tokens, hiddenSize, mlpSize, layerNormEps);
    }

    private static String adapterParam(String name) {
        return AdapterWeights.name(ADAPTER, name);
    }

    /** The packed token type this vertex reads and writes. */
    public InputType packedType() {
        return InputType.recurrent(hiddenSize, imageTokens() + promptTokens(), RNNFormat.NWC);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType... inputs) {
        checkTokens(STREAMS, inputs[0], imageTokens() + promptTokens(), hiddenSize);
        return inputs[0];
    }

    @Override
    public void validateInput(INDArray[] input) {
        checkTokens(STREAMS, input[0], imageTokens() + promptTokens(), hiddenSize);
    }

    @Override
    public int minVertexInputs() {
        return 1;
    }

    @Override
    public int maxVertexInputs() {
        return 1;
    }

    @Override
    protected org.deeplearning4j.nn.graph.vertex.GraphVertex createFastVertex(ComputationGraph graph, String name,
                                                                              int idx, INDArray view, boolean init,
                                                                              DataType dataType) {
        return new FastRuntime(this, graph, name, idx, view, init, dataType);
    }

    /** Hand-written runtime: block, cross-attention and adapter kernels; frozen weights get no gradient GEMMs. */
    static final class FastRuntime extends FastGraphVertex<DualPathwayVertex> {
        private final WindowNeighbourhood neighbourhood;
        private long batch;
        private TransformerBlockKernel.Cache imageBlock;
        private TransformerBlockKernel.Cache promptBlock;
        private TransformerBlockKernel.Cache deepBlock;
        private INDArray deepOut;
        private CrossAttentionKernel.Cache cross;
        private AdapterKernel.Cache adapter;

        FastRuntime(DualPathwayVertex conf, ComputationGraph graph, String name, int idx, INDArray view, boolean init,
                    DataType dataType) {
            super(conf, graph, name, idx, view, init, dataType);
            neighbourhood = conf.getAttentionMode() == AttentionMode.GLOBAL ? null : conf.neighbourhood();
        }

        @Override
        protected INDArray forward(INDArray[] in, boolean training) {
            DualPathwayVertex c = conf;
            INDArray packed = in[0];
            batch = packed.size(0);
            int b = (int) batch, ti = c.imageTokens(), tp = c.promptTokens(), heads = c.getNumHeads();
            double eps = c.getLayerNormEps();
            INDArray image = tokens2d(stream(packed, 0, ti));
            INDArray prompt = tokens2d(stream(packed, ti, ti + tp));
            BlockWeights block = BlockWeights.from(weights());
            boolean promptToImage = c.getDirection() == InteractionDirection.PROMPT_TO_IMAGE;

            CrossAttentionKernel.Result crossed = CrossAttentionKernel.forward(promptToImage ? image : prompt,
                    promptToImage ? prompt : image, block.attention(), eps, heads, b, neighbourhood,
                    c.getAttentionDropout(), training);
            cross = crossed.cache();
            INDArray interaction;
            if (c.isAdapter()) {
                AdapterKernel.Result adapted = AdapterKernel.forward(crossed.output(),
                        AdapterWeights.from(weights(), ADAPTER), eps, c.getAdapterActivation(), c.getAdapterDropout(),
                        training);
                adapter = adapted.cache();
                interaction = adapted.output().muli(c.getGamma());
            } else {
                // The cross-attention output without its query residual.
                interaction = crossed.output().sub(promptToImage ? image : prompt).muli(c.getGamma());
            }

            // Both streams (and the deep map) go through the same block: fuse its q/k/v projections once.
            TransformerBlockKernel.FusedQkv fused = TransformerBlockKernel.FusedQkv.of(block.attention());
            // What backward will accumulate into: the block keeps the inputs of only those weight GEMMs.
            Map<String, INDArray> trainable = training ? trainableGradients() : null;
            BlockWeights blockGrads = trainable == null ? null : BlockWeights.from(trainable);
            TransformerBlockKernel.Result imageOut = TransformerBlockKernel.forward(image, block, fused, eps, heads,
                    b, c.getBlockDropout(), training, blockGrads);
            TransformerBlockKernel.Result promptOut = TransformerBlockKernel.forward(prompt, block, fused, eps, heads,
                    b, c.getBlockDropout(), training, blockGrads);
            imageBlock = imageOut.cache();
            promptBlock = promptOut.cache();
            INDArray newImage = imageOut.output();
            INDArray newPrompt = promptOut.output();
            if (c.isDeepPrompt()) {
                // The map is batch-independent; with active dropout the authors run it per sample (expand).
                int copies = training && c.getBlockDropout() > 0 ? b : 1;
                INDArray deepMap = LinearKernel.forward(weights().get(DEEP_FACTORS), weights().get(DEEP_PROJ_W),
                        weights().get(DEEP_PROJ_B));
                INDArray deepIn = copies == 1 ? deepMap : Nd4j.tile(deepMap, copies, 1);
                TransformerBlockKernel.Result deep = TransformerBlockKernel.forward(deepIn, block, fused, eps, heads,
                        copies, c.getBlockDropout(), training, blockGrads);
                deepBlock = deep.cache();
                deepOut = deep.output();
                INDArray scaled = deepOut.mulRowVector(weights().get(DEEP_SCALE));
                addPerSample(newPrompt, scaled, b, tp);
            }
            if (promptToImage) {
                newImage.addi(interaction);
            } else {
                newPrompt.addi(interaction);
            }
            return Nd4j.concat(1, tokens3d(newImage, batch), tokens3d(newPrompt, batch));
        }

        @Override
        protected INDArray[] backward(INDArray epsilon) {
            DualPathwayVertex c = conf;
            int b = (int) batch, ti = c.imageTokens(), tp = c.promptTokens();
            boolean promptToImage = c.getDirection() == InteractionDirection.PROMPT_TO_IMAGE;
            INDArray dImageOut = tokens2d(stream(epsilon, 0, ti));
            INDArray dPromptOut = tokens2d(stream(epsilon, ti, ti + tp));
            BlockWeights block = BlockWeights.from(weights());
            BlockWeights blockGrads = BlockWeights.from(trainableGradients());
            AdapterWeights adapterGrads = AdapterWeights.from(trainableGradients(), ADAPTER);

            INDArray dInteraction = (promptToImage ? dImageOut : dPromptOut).mul(c.getGamma());
            INDArray dCrossed = c.isAdapter()
                    ? AdapterKernel.backward(dInteraction, adapter, AdapterWeights.from(weights(), ADAPTER),
                    adapterGrads, c.getAdapterActivation())
                    : dInteraction;
            CrossAttentionKernel.InputGradients dCross = CrossAttentionKernel.backward(dCrossed, cross,
                    block.attention(), blockGrads.attention());
            // Without adapter the query residual was subtracted: take its identity path back out.
            INDArray dQuery = c.isAdapter() ? dCross.query() : dCross.query().sub(dInteraction);

            INDArray dImage = TransformerBlockKernel.backward(dImageOut, imageBlock, block, blockGrads);
            INDArray dPrompt = TransformerBlockKernel.backward(dPromptOut, promptBlock, block, blockGrads);
            if (c.isDeepPrompt()) {
                deepBackward(dPromptOut, block, blockGrads, b, tp);
            }
            dImage.addi(promptToImage ? dQuery : dCross.keyValue());
            dPrompt.addi(promptToImage ? dCross.keyValue() : dQuery);
            return new INDArray[]{Nd4j.concat(1, tokens3d(dImage, batch), tokens3d(dPrompt, batch))};
        }

        /** Gradients of the deep prompt: scale, then through the block (dX only if frozen), then the low-rank map. */
        private void deepBackward(INDArray dPromptOut, BlockWeights block, BlockWeights blockGrads, int b, int tp) {
            INDArray scale = weights().get(DEEP_SCALE);
            int copies = (int) (deepOut.size(0) / tp);
            // dL/d(deepOut ⊙ scale), aligned with deepOut's rows: summed over the samples when they share one map
            INDArray dScaled = copies == 1
                    ? dPromptOut.reshape('c', b, tp, dPromptOut.size(1)).sum(0)
                    : dPromptOut;
            INDArray dScale = gradients(DEEP_SCALE);
            if (dScale != null) {
                dScale.addi(dScaled.mul(deepOut).sum(0).reshape(dScale.shape()));
            }
            INDArray dDeepOut = dScaled.mulRowVector(scale);
            INDArray dDeepIn = TransformerBlockKernel.backward(dDeepOut, deepBlock, block, blockGrads);
            INDArray dDeepMap = copies == 1 ? dDeepIn
                    : dDeepIn.reshape('c', copies, tp, dDeepIn.size(1)).sum(0);
            INDArray dFactors = LinearKernel.backward(dDeepMap, weights().get(DEEP_FACTORS),
                    weights().get(DEEP_PROJ_W), gradients(DEEP_PROJ_W), gradients(DEEP_PROJ_B),
                    gradients(DEEP_FACTORS) != null);
            if (dFactors != null) {
                gradients(DEEP_FACTORS).addi(dFactors);
            }
        }

        /** Tokens {@code [from, to)} of a packed {@code [B, T, D]} tensor, contiguous. */
        private static INDArray stream(INDArray packed, long from, long to) {
            return packed.get(NDArrayIndex.all(), NDArrayIndex.interval(from, to), NDArrayIndex.all()).dup('c');
        }

        /** {@code target [B·T, D] += addend} where addend is {@code [T, D]} (shared) or {@code [B·T, D]}. */
        private static void addPerSample(INDArray target, INDArray addend, int batch, int tokens) {
            if (addend.size(0) == target.size(0)) {
                target.addi(addend);
                return;
            }
            INDArray t3 = target.reshape('c', batch, tokens, target.size(1));
            for (int i = 0; i < batch; i++) {
                t3.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all()).addi(addend);
            }
        }
    }

    /** Builder with the authors' ViT defaults (window 3, γ 0.1, adapter 16 GELU, eps 1e-6, dropout 0.1). */
    public static class Builder {
        private int hiddenSize;
        private int numHeads;
        private int mlpSize;
        private int windowSize = 3;
        private TokenGrid imageGrid;
        private TokenGrid promptGrid;
        private boolean classToken = true;
        private InteractionDirection direction = InteractionDirection.PROMPT_TO_IMAGE;
        private AttentionMode attentionMode = AttentionMode.LOCAL;
        private double gamma = 0.1;
        private boolean adapter = true;
        private int adapterSize = 16;
        private AdapterActivation adapterActivation = AdapterActivation.GELU;
        private boolean deepPrompt;
        private int deepPromptRank = 16;
        private double layerNormEps = 1e-6;
        private double blockDropout = 0.1;
        private double attentionDropout = 0.1;
        private double adapterDropout = 0.1;
        private Implementation implementation = Implementation.FAST;
        private boolean freezeBackboneWeights = true;

        /** Token width D of both streams (the backbone block's width). */
        public Builder hiddenSize(int v) {
            hiddenSize = v;
            return this;
        }

        /** Attention heads of the block and of the cross attention; a divisor of {@code hiddenSize}. */
        public Builder numHeads(int v) {
            numHeads = v;
            return this;
        }

        /** MLP width of the block; default 4 × hiddenSize. */
        public Builder mlpSize(int v) {
            mlpSize = v;
            return this;
        }

        /** Side c of the c×c key window of the cross attention in {@code LOCAL} mode; odd, default 3. */
        public Builder windowSize(int v) {
            windowSize = v;
            return this;
        }

        /** Patch grid of the image stream (14 × 14 for ViT-B/16 at 224 × 224); required. */
        public Builder imageGrid(int height, int width) {
            imageGrid = TokenGrid.of(height, width);
            return this;
        }

        /** Prompt map grid when it differs from the image grid ("scaled" prompt maps). */
        public Builder promptGrid(int height, int width) {
            promptGrid = TokenGrid.of(height, width);
            return this;
        }

        /** Whether each stream has a class token at index 0 before its grid tokens; default true. */
        public Builder classToken(boolean v) {
            classToken = v;
            return this;
        }

        /** Which stream the interaction reads and which it updates; default {@code PROMPT_TO_IMAGE}. */
        public Builder direction(InteractionDirection v) {
            direction = v;
            return this;
        }

        /** {@code LOCAL} (aligned windows, default) or {@code GLOBAL} (every key: the ablation). */
        public Builder attentionMode(AttentionMode v) {
            attentionMode = v;
            return this;
        }

        /** γ, the weight of the interaction added to the updated stream (the authors' {@code add_scale}); default 0.1. */
        public Builder gamma(double v) {
            gamma = v;
            return this;
        }

        /** False for the "w/o adapter" ablation: the interaction is γ · the cross-attention output. */
        public Builder adapter(boolean v) {
            adapter = v;
            return this;
        }

        /** Bottleneck width t of the adapter; default 16. */
        public Builder adapterSize(int v) {
            adapterSize = v;
            return this;
        }

        /** The adapter's activation: GELU (the authors' code, default) or ReLU (the paper's text). */
        public Builder adapterActivation(AdapterActivation v) {
            adapterActivation = v;
            return this;
        }

        /** Adds a new rank-r prompt map through this block (the authors do so at layers 4 and 8). */
        public Builder deepPrompt(boolean v) {
            deepPrompt = v;
            return this;
        }

        /** Rank r of the deep prompt map ({@code [Tp, r]} factors projected to D); default 16. */
        public Builder deepPromptRank(int v) {
            deepPromptRank = v;
            return this;
        }

        /** ε of the block's LayerNorms, also used by the cross attention and the adapter; default 1e-6. */
        public Builder layerNormEps(double v) {
            layerNormEps = v;
            return this;
        }

        /** Dropout inside the frozen block's MLP (after GELU and after fc2), both streams; default 0.1. */
        public Builder blockDropout(double v) {
            blockDropout = v;
            return this;
        }

        /** Dropout on the cross-attention output projection; default 0.1. */
        public Builder attentionDropout(double v) {
            attentionDropout = v;
            return this;
        }

        /** Dropout inside the adapter; default 0.1. */
        public Builder adapterDropout(double v) {
            adapterDropout = v;
            return this;
        }

        /** Sets all three dropout probabilities (0 turns dropout off, e.g. for gradient checks). */
        public Builder dropout(double v) {
            blockDropout = v;
            attentionDropout = v;
            adapterDropout = v;
            return this;
        }

        /** Runtime of forward and backward: {@code FAST} (default) or the {@code SAMEDIFF} reference. */
        public Builder implementation(Implementation v) {
            implementation = v;
            return this;
        }

        /** True (default): the backbone block's weights are frozen; false trains them too (full fine-tuning). */
        public Builder freezeBackboneWeights(boolean v) {
            freezeBackboneWeights = v;
            return this;
        }

        public DualPathwayVertex build() {
            return new DualPathwayVertex(this);
        }
    }
}
