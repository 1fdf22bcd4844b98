package org.sa2vp.baseline;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.sa2vp.backbone.swin.SwinCheckpoint;
import org.sa2vp.backbone.swin.SwinTransformer;
import org.sa2vp.backbone.swin.SwinTransformerConfig;
import org.sa2vp.layers.ClassifierLoss;
import org.sa2vp.layers.Implementation;

/**
 * VPT on a frozen Swin Transformer as the VPT authors built it ({@code PromptedSwinTransformer}), a DL4J
 * {@link ComputationGraph} on the vertices of {@link SwinTransformer} with P prompt tokens in front of every map:
 * <pre>
 *   image [B,C,H,W] → patch_embed [B,T0,D0] → prompts.0 [B,P+T0,D0]  (prompts first: the Swin has no class token)
 *     → layers.0.blocks.0 → (deep: prompts.1) → layers.0.blocks.1 → …
 *     → layers.1.downsample [B,P+T1,2·D0]   (each prompt repeated 4× along the channels, then norm and reduction)
 *     → (deep: prompts.k) → layers.1.blocks.0 → … → norm [B,D_last] (final LayerNorm, mean over all tokens)
 *     → head [B,classes] → output (softmax + CE)
 * </pre>
 * Every block is a {@link org.sa2vp.backbone.swin.SwinBlock} with {@code promptTokens} P: its windows all attend to
 * the image's prompts (no position bias, never masked) and a prompt's output is the mean over the windows. VPT-deep
 * puts a new prompt set in front of every block (vertex {@code prompts.k}, k the block's index over all stages, width
 * of its stage), replacing the previous block's prompt outputs; the first block's set is inserted after the patch
 * embedding. VPT-shallow has {@code prompts.0} only, carried through every block and patch merging. Trainable: the
 * prompt sets and the new head; the backbone keeps its pretrained values bitwise, and a {@link SwinCheckpoint} loads
 * into the graph as into {@link SwinTransformer}'s.
 *
 * <p>One difference from the authors' code, on purpose: their block lays the prompts out window-major while the
 * windows are image-major, so at batch sizes above one a prompt is averaged over windows of several images (and in
 * VPT-shallow joins windows of other images). Here each image's prompts see and average over that image's windows
 * only, which is what their code computes at batch size 1 and what makes an image's logits independent of its batch.
 * On maps that are not a multiple of the window the prompts also see the zero-padded slots, as the map's tokens do
 * (torchvision's padding, see {@link org.sa2vp.backbone.swin.SwinBlock}); the authors' Swin accepts no such maps.
 */
public final class VptSwinModel {

    public static final String INPUT = SwinTransformer.INPUT;
    public static final String FEATURES = SwinTransformer.FEATURES;
    public static final String HEAD = SwinTransformer.HEAD;
    public static final String OUTPUT = SwinTransformer.OUTPUT;

    private VptSwinModel() {
    }

    /** Graph configuration on the given global settings (updater, seed, data type, regularisation). */
    public static ComputationGraphConfiguration configuration(VptSwinConfig config,
                                                              NeuralNetConfiguration.Builder globals) {
        return configuration(config, globals, Implementation.FAST);
    }

    /** As above, with the runtime of the backbone and prompt layers ({@link Implementation#SAMEDIFF}: reference). */
    public static ComputationGraphConfiguration configuration(VptSwinConfig config,
                                                              NeuralNetConfiguration.Builder globals,
                                                              Implementation implementation) {
        config.validated();
        SwinTransformerConfig swin = config.getBackbone();
        int p = config.getNumPromptTokens();
        // VPT draws every set from one range, computed from the first stage's width
        double initBound = VisualPromptTokens.vptInitBound(swin.getInChannels(), swin.getPatchSize(),
                swin.getEmbedDim());
        ComputationGraphConfiguration.GraphBuilder g = SwinTransformer.graphBuilder(globals, swin);
        int[] blocksBefore = new int[swin.numStages()];
        for (int stage = 1; stage < swin.numStages(); stage++) {
            blocksBefore[stage] = blocksBefore[stage - 1] + swin.getDepths().get(stage - 1);
        }
        // prompts.k in front of block k (counted over all stages): every block when deep, the first one otherwise
        SwinTransformer.BlockInput promptSets = (graph, stage, block, previous) -> {
            int index = blocksBefore[stage] + block;
            if (index > 0 && !config.isDeep()) {
                return previous;
            }
            graph.addLayer(VptModel.prompts(index), new VisualPromptTokens.Builder().hiddenSize(swin.stageWidth(stage))
                    .numPrompts(p).leadingTokens(0)
                    .placement(index == 0 ? VisualPromptTokens.Placement.INSERT : VisualPromptTokens.Placement.REPLACE)
                    .promptDropout(config.getPromptDropout()).initBound(initBound).implementation(implementation)
                    .build(), previous);
            return VptModel.prompts(index);
        };
        SwinTransformer.addFeatureExtractor(g, swin, INPUT, true, implementation, p, promptSets);
        g.addLayer(HEAD, new DenseLayer.Builder().nIn(swin.featureWidth()).nOut(config.getNumClasses())
                .activation(Activation.IDENTITY).build(), FEATURES);
        g.addLayer(OUTPUT, ClassifierLoss.softmax(config.getNumClasses(), new LossMCXENT()), HEAD);
        return g.setOutputs(OUTPUT).build();
    }

    /** Copies a Swin checkpoint into the frozen parts (embedding, stages, final norm); prompts and head keep theirs. */
    public static void loadBackbone(ComputationGraph graph, VptSwinConfig config, SwinCheckpoint checkpoint) {
        checkpoint.assignBackbone(graph, config.getBackbone());
    }

    /** Trained parameters: P·(width of each set's stage) per prompt set, plus the head's. */
    public static long trainableParameterCount(VptSwinConfig config) {
        SwinTransformerConfig swin = config.getBackbone();
        long prompts = (long) config.getNumPromptTokens() * swin.getEmbedDim();
        if (config.isDeep()) {
            prompts = 0;
            for (int stage = 0; stage < swin.numStages(); stage++) {
                prompts += (long) swin.getDepths().get(stage) * config.getNumPromptTokens() * swin.stageWidth(stage);
            }
        }
        return prompts + (long) (swin.featureWidth() + 1) * config.getNumClasses();
    }
}
