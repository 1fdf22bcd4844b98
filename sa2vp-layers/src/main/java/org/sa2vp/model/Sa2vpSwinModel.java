package org.sa2vp.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.distribution.TruncatedNormalDistribution;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.ScaleVertex;
import org.deeplearning4j.nn.conf.graph.StackVertex;
import org.deeplearning4j.nn.conf.graph.UnstackVertex;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.swin.SwinCheckpoint;
import org.sa2vp.backbone.swin.SwinPatchEmbedding;
import org.sa2vp.backbone.swin.SwinTransformer;
import org.sa2vp.backbone.swin.SwinTransformerConfig;
import org.sa2vp.layers.AttentionMode;
import org.sa2vp.layers.Implementation;
import org.sa2vp.layers.Parameters;
import org.sa2vp.layers.PromptAdapter;
import org.sa2vp.layers.SpatiallyAlignedCrossAttention;
import org.sa2vp.layers.runtime.AdapterActivation;
import org.sa2vp.layers.runtime.AttentionWeights;
import org.sa2vp.layers.runtime.BlockWeights;

import java.util.Map;

/**
 * SA2VP-Swin ({@link Sa2vpSwinConfig}) as a DL4J {@link ComputationGraph}. The two streams travel stacked along the
 * batch axis, image rows first ({@code [2B, T, D]}), so every frozen Swin block, patch merging and the pooled final
 * norm ({@link SwinTransformer}'s layers and vertex names, hence {@link SwinCheckpoint#assignBackbone}) serve both
 * streams in one call and each stream keeps its own windows:
 * <pre>
 *   image → patch_embed X⁰ [B,T,D] ─┬────────────────────────┐
 *                                    └→ prompt_map P⁰ [B,T,D] ┴→ streams [2B,T,D] → layers.0.blocks.0 … →
 *   interaction stage s, block n (streams S = [X; P] entering it):
 *     F = ffn(cross_attn(query = updated stream, keyValue = source stream))        [B,T,D]   (from S)
 *     S' = blocks.n(S);  updated half of S' += γ·F                                  [2B,T,D]
 *   … → norm (final LayerNorm, mean over tokens) [2B,D] → class_head [2B,C] → image_logits, prompt_logits [B,C]
 * </pre>
 * The cross attention holds frozen copies of block n's {@code norm1} (at the interaction eps), {@code attn.qkv} and
 * {@code attn.proj}, as the authors' {@code cross_attn.n.attention_norm}/{@code attn}; copied by
 * {@link #loadBackbone}.
 */
public final class Sa2vpSwinModel {

    public static final String PROMPT_MAP = "prompt_map";
    public static final String STREAMS = "streams";
    public static final String HEAD = "class_head";

    private Sa2vpSwinModel() {
    }

    /** Cross-attention vertex of interaction block {@code n} in stage {@code stage}. */
    public static String crossAttention(int stage, int n) {
        return "layers." + stage + ".cross_attn." + n + ".attn";
    }

    /** Adapter vertex ({@code ffn_norm} + {@code ffn}) of interaction block {@code n} in stage {@code stage}. */
    public static String adapter(int stage, int n) {
        return "layers." + stage + ".cross_attn." + n + ".ffn";
    }

    /** The graph on the given global settings (updater, seed, data type, regularisation). */
    public static ComputationGraphConfiguration configuration(Sa2vpSwinConfig config,
                                                              NeuralNetConfiguration.Builder globals,
                                                              Implementation implementation) {
        config.validated();
        SwinTransformerConfig swin = config.getBackbone();
        int classes = config.getNumClasses();
        ComputationGraphConfiguration.GraphBuilder g = SwinTransformer.graphBuilder(globals, swin);
        // the prompt map beside the patch embedding, both streams stacked in front of the first block
        SwinTransformer.BlockInput streams = (graph, stage, b, previous) -> {
            if (stage > 0 || b > 0) {
                return previous;
            }
            int[] first = swin.stageGrid(0);
            SwinPromptMap promptMap = new SwinPromptMap(first[0], first[1], swin.getEmbedDim(),
                    config.getPromptRank(), swin.getLayerNormEps());
            promptMap.setImplementation(implementation);
            graph.addVertex(PROMPT_MAP, promptMap, SwinTransformer.EMBEDDING);
            graph.addVertex(STREAMS, new StackVertex(), SwinTransformer.EMBEDDING, PROMPT_MAP);
            return STREAMS;
        };
        SwinTransformer.BlockOutput interaction = (graph, stage, b, entering, block) ->
                stage == config.getInteractionStage()
                        ? addInteraction(graph, config, stage, b, entering, block, implementation) : block;
        SwinTransformer.addFeatureExtractor(g, swin, SwinTransformer.INPUT, true, implementation, 0, streams,
                interaction);
        // The authors' class_head: trunc-normal(0.02) weight; one head for both streams.
        g.addLayer(HEAD, new DenseLayer.Builder().nIn(swin.featureWidth()).nOut(classes)
                .weightInit(new TruncatedNormalDistribution(0, 0.02)).activation(Activation.IDENTITY).build(),
                SwinTransformer.FEATURES);
        g.addVertex(Sa2vpModel.IMAGE_LOGITS, new UnstackVertex(0, 2), HEAD);
        g.addVertex(Sa2vpModel.PROMPT_LOGITS, new UnstackVertex(1, 2), HEAD);
        g.addLayer(Sa2vpModel.IMAGE_LOSS, Sa2vpModel.weightedCrossEntropy(classes, config.getLossWeight()),
                Sa2vpModel.IMAGE_LOGITS);
        g.addLayer(Sa2vpModel.PROMPT_LOSS, Sa2vpModel.weightedCrossEntropy(classes, 1 - config.getLossWeight()),
                Sa2vpModel.PROMPT_LOGITS);
        return g.setOutputs(Sa2vpModel.IMAGE_LOSS, Sa2vpModel.PROMPT_LOSS).build();
    }

    /**
     * Interaction block {@code n} around the frozen {@code block}: F from the streams entering it ({@code entering},
     * {@code [2B, T, D]}), γ·F added to the updated half of the block's output; returns the vertex of the result.
     */
    private static String addInteraction(ComputationGraphConfiguration.GraphBuilder g, Sa2vpSwinConfig config,
                                         int stage, int n, String entering, String block,
                                         Implementation implementation) {
        SwinTransformerConfig swin = config.getBackbone();
        int[] grid = swin.stageGrid(stage);
        int d = swin.stageWidth(stage);
        boolean imageToPrompt = config.imageToPrompt(n);
        String prefix = "layers." + stage + ".cross_attn." + n;
        g.addVertex(prefix + ".image", new UnstackVertex(0, 2), entering);
        g.addVertex(prefix + ".prompt", new UnstackVertex(1, 2), entering);
        String query = prefix + (imageToPrompt ? ".prompt" : ".image");
        String keyValue = prefix + (imageToPrompt ? ".image" : ".prompt");
        g.addVertex(crossAttention(stage, n), new SpatiallyAlignedCrossAttention.Builder().hiddenSize(d)
                .numHeads(swin.getNumHeads().get(stage)).windowSize(config.getWindowSize()).queryGrid(grid[0], grid[1])
                .classToken(false).mode(AttentionMode.LOCAL).layerNormEps(config.getInteractionLayerNormEps())
                .dropout(config.getAttentionDropout()).implementation(implementation).build(), query, keyValue);
        g.addLayer(adapter(stage, n), new PromptAdapter.Builder().hiddenSize(d).adapterSize(config.getAdapterSize())
                .activation(AdapterActivation.GELU).layerNormEps(config.getInteractionLayerNormEps())
                .dropout(config.getAdapterDropout()).init(PromptAdapter.Init.TRUNCATED_NORMAL)
                .implementation(implementation).build(), crossAttention(stage, n));
        g.addVertex(prefix + ".scaled", new ScaleVertex(config.getGamma()), adapter(stage, n));
        g.addVertex(block + ".image", new UnstackVertex(0, 2), block);
        g.addVertex(block + ".prompt", new UnstackVertex(1, 2), block);
        String updated = block + (imageToPrompt ? ".prompt" : ".image");
        g.addVertex(block + ".fused", new ElementWiseVertex(ElementWiseVertex.Op.Add), updated, prefix + ".scaled");
        String image = imageToPrompt ? block + ".image" : block + ".fused";
        String prompt = imageToPrompt ? block + ".fused" : block + ".prompt";
        g.addVertex(block + ".streams", new StackVertex(), image, prompt);
        return block + ".streams";
    }

    /**
     * Copies a Swin checkpoint into the frozen parts: the backbone's own layers, the patch-embedding norm into the
     * prompt map and, as the authors' second loading pass, block n's {@code norm1}, {@code attn.qkv} and
     * {@code attn.proj} into interaction block n's cross attention.
     */
    public static void loadBackbone(ComputationGraph graph, Sa2vpSwinConfig config, SwinCheckpoint checkpoint) {
        checkpoint.assignBackbone(graph, config.getBackbone());
        Map<String, INDArray> embedding = Parameters.of(graph, SwinTransformer.EMBEDDING);
        Parameters.assign(graph, PROMPT_MAP, SwinPromptMap.NORM_GAMMA, embedding.get(SwinPatchEmbedding.NORM_GAMMA));
        Parameters.assign(graph, PROMPT_MAP, SwinPromptMap.NORM_BETA, embedding.get(SwinPatchEmbedding.NORM_BETA));
        int stage = config.getInteractionStage();
        for (int n = 0; n < config.interactionDepth(); n++) {
            Map<String, INDArray> block = Parameters.of(graph, SwinTransformer.block(stage, n));
            String attention = crossAttention(stage, n);
            Parameters.assign(graph, attention, AttentionWeights.NORM_GAMMA, block.get(BlockWeights.NORM1 + "Gamma"));
            Parameters.assign(graph, attention, AttentionWeights.NORM_BETA, block.get(BlockWeights.NORM1 + "Beta"));
            for (String p : new String[]{AttentionWeights.QUERY_W, AttentionWeights.QUERY_B, AttentionWeights.KEY_W,
                    AttentionWeights.KEY_B, AttentionWeights.VALUE_W, AttentionWeights.VALUE_B, AttentionWeights.OUT_W,
                    AttentionWeights.OUT_B}) {
                Parameters.assign(graph, attention, p, block.get(p));
            }
        }
    }

    /** A new graph with random backbone stand-ins (float32, Adam(1e-3), seed 42). */
    public static ComputationGraph create(Sa2vpSwinConfig config, Implementation implementation) {
        ComputationGraph graph = new ComputationGraph(configuration(config, Sa2vpModel.defaultGlobals(),
                implementation));
        graph.init();
        return graph;
    }
}
