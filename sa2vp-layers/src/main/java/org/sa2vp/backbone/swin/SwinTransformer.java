package org.sa2vp.backbone.swin;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.sa2vp.backbone.BackboneGraphs;
import org.sa2vp.layers.ClassifierLoss;
import org.sa2vp.layers.Implementation;

/**
 * The Swin family as a DL4J {@link ComputationGraph} built from {@link SwinPatchEmbedding}, {@link SwinBlock},
 * {@link PatchMerging} and {@link LayerNormMeanPooling}:
 * <pre>
 *   image [B,C,H,W] → patch_embed [B,T0,D] → layers.0.blocks.0 … → layers.1.downsample [B,T1,2D]
 *     → layers.1.blocks.0 … → norm [B,D_last] (features) → head [B,classes] (logits) → output (softmax + loss)
 * </pre>
 * Vertex names follow timm's module names (timm ≥ 0.9 puts each patch merging at the start of the stage it feeds).
 * Backbone layers are frozen by default yet pass gradients to their input; the head trains. Without classes the graph
 * ends at {@code norm}.
 */
public final class SwinTransformer {

    public static final String INPUT = "image";
    public static final String EMBEDDING = "patch_embed";
    public static final String FEATURES = BackboneGraphs.FEATURES;
    public static final String HEAD = BackboneGraphs.HEAD;
    public static final String OUTPUT = "output";

    private SwinTransformer() {
    }

    /** Vertex of block {@code block} of stage {@code stage}. */
    public static String block(int stage, int block) {
        return "layers." + stage + ".blocks." + block;
    }

    /** Vertex of the patch merging that feeds stage {@code stage} (1 or more). */
    public static String downsample(int stage) {
        return "layers." + stage + ".downsample";
    }

    /** Graph configuration with float32, Adam(1e-3) for the trainable parts, seed 42. */
    public static ComputationGraphConfiguration configuration(SwinTransformerConfig config) {
        return configuration(config, new NeuralNetConfiguration.Builder().seed(42).dataType(DataType.FLOAT)
                .updater(new Adam(1e-3)), true, Implementation.FAST);
    }

    /**
     * Graph configuration on the given global settings (updater, seed, data type, regularisation).
     *
     * @param frozen         whether the backbone layers are frozen (false: full fine-tuning)
     * @param implementation the runtime of the backbone layers ({@link Implementation#SAMEDIFF}: the checked reference)
     */
    public static ComputationGraphConfiguration configuration(SwinTransformerConfig config,
                                                              NeuralNetConfiguration.Builder globals, boolean frozen,
                                                              Implementation implementation) {
        config.validated();
        ComputationGraphConfiguration.GraphBuilder g = graphBuilder(globals, config);
        addFeatureExtractor(g, config, INPUT, frozen, implementation);
        if (config.getNumClasses() > 0) {
            g.addLayer(HEAD, new DenseLayer.Builder().nIn(config.featureWidth()).nOut(config.getNumClasses())
                    .activation(Activation.IDENTITY).build(), FEATURES);
            g.addLayer(OUTPUT, ClassifierLoss.softmax(config.getNumClasses(), new LossMCXENT()), HEAD);
            g.setOutputs(OUTPUT);
        } else {
            g.setOutputs(FEATURES);
        }
        return g.build();
    }

    /**
     * A graph builder on {@code globals} whose one input {@link #INPUT} takes {@code config}'s images
     * {@code [B, C, H, W]}: the start of every graph on a Swin.
     */
    public static ComputationGraphConfiguration.GraphBuilder graphBuilder(NeuralNetConfiguration.Builder globals,
                                                                          SwinTransformerConfig config) {
        return globals.graphBuilder().addInputs(INPUT).setInputTypes(InputType.convolutional(config.getImageHeight(),
                config.getImageWidth(), config.getInChannels()));
    }

    /**
     * Adds the patch embedding, the stages (patch merging first from the second stage on) and the pooled final norm
     * after vertex {@code input} (images {@code [B, C, H, W]}); returns {@link #FEATURES}, the features
     * {@code [B, featureWidth]}.
     */
    public static String addFeatureExtractor(ComputationGraphConfiguration.GraphBuilder g,
                                             SwinTransformerConfig config, String input, boolean frozen,
                                             Implementation implementation) {
        return addFeatureExtractor(g, config, input, frozen, implementation, 0, (graph, stage, block, previous) ->
                previous);
    }

    /**
     * Vertices a method adds in front of each block (VPT's prompt tokens): given the vertex block {@code block} of
     * stage {@code stage} would read, adds its own and returns the vertex the block shall read.
     */
    @FunctionalInterface
    public interface BlockInput {
        /** The vertex block {@code block} of stage {@code stage} reads: {@code previous} if nothing is added. */
        String before(ComputationGraphConfiguration.GraphBuilder g, int stage, int block, String previous);
    }

    /**
     * Vertices a method adds after each block (SA2VP's interaction): given the vertex block {@code block} of stage
     * {@code stage} read ({@code entering}) and the block's own ({@code output}), adds its own and returns the vertex
     * the next layer shall read.
     */
    @FunctionalInterface
    public interface BlockOutput {
        /** The vertex the layer after block {@code block} of stage {@code stage} reads: {@code output}, or its own. */
        String after(ComputationGraphConfiguration.GraphBuilder g, int stage, int block, String entering,
                     String output);
    }

    /**
     * As {@link #addFeatureExtractor(ComputationGraphConfiguration.GraphBuilder, SwinTransformerConfig, String,
     * boolean, Implementation)}, with {@code promptTokens} P tokens in front of every map from the first block on
     * (blocks and patch mergings carry them; the pooled final norm averages over them too, as VPT's Swin) and
     * {@code blockInput} adding vertices in front of every block.
     */
    public static String addFeatureExtractor(ComputationGraphConfiguration.GraphBuilder g,
                                             SwinTransformerConfig config, String input, boolean frozen,
                                             Implementation implementation, int promptTokens, BlockInput blockInput) {
        return addFeatureExtractor(g, config, input, frozen, implementation, promptTokens, blockInput,
                (graph, stage, block, entering, output) -> output);
    }

    /**
     * As above, with {@code blockOutput} adding vertices after every block, which the next layer reads instead of the
     * block's output.
     */
    public static String addFeatureExtractor(ComputationGraphConfiguration.GraphBuilder g,
                                             SwinTransformerConfig config, String input, boolean frozen,
                                             Implementation implementation, int promptTokens, BlockInput blockInput,
                                             BlockOutput blockOutput) {
        double eps = config.getLayerNormEps();
        g.addLayer(EMBEDDING, new SwinPatchEmbedding.Builder().inChannels(config.getInChannels())
                .imageSize(config.getImageHeight(), config.getImageWidth()).patchSize(config.getPatchSize())
                .hiddenSize(config.getEmbedDim()).layerNormEps(eps).frozen(frozen).implementation(implementation)
                .build(), input);
        String previous = EMBEDDING;
        int blockIndex = 0;
        for (int stage = 0; stage < config.numStages(); stage++) {
            int[] grid = config.stageGrid(stage);
            if (stage > 0) {
                int[] before = config.stageGrid(stage - 1);
                g.addLayer(downsample(stage), new PatchMerging.Builder().hiddenSize(config.stageWidth(stage - 1))
                        .grid(before[0], before[1]).layerNormEps(eps).promptTokens(promptTokens).frozen(frozen)
                        .implementation(implementation).build(), previous);
                previous = downsample(stage);
            }
            for (int b = 0; b < config.getDepths().get(stage); b++, blockIndex++) {
                previous = blockInput.before(g, stage, b, previous);
                g.addLayer(block(stage, b), new SwinBlock.Builder().hiddenSize(config.stageWidth(stage))
                        .numHeads(config.getNumHeads().get(stage)).mlpSize(config.stageMlpSize(stage))
                        .grid(grid[0], grid[1]).windowSize(config.getWindowSize())
                        .shiftSize(b % 2 == 0 ? 0 : config.getWindowSize() / 2).layerNormEps(eps)
                        .qkvBias(config.isQkvBias()).dropPath(config.blockDropPath(blockIndex))
                        .promptTokens(promptTokens).frozen(frozen).implementation(implementation).build(), previous);
                previous = blockOutput.after(g, stage, b, previous, block(stage, b));
            }
        }
        g.addLayer(FEATURES, new LayerNormMeanPooling.Builder().hiddenSize(config.featureWidth()).layerNormEps(eps)
                .frozen(frozen).implementation(implementation).build(), previous);
        return FEATURES;
    }

    /** A new, initialised graph with random weights. */
    public static ComputationGraph create(SwinTransformerConfig config) {
        return BackboneGraphs.create(configuration(config));
    }

    /** Features {@code [B, featureWidth]} (the pooled final norm) for images {@code [B, C, H, W]}, inference mode. */
    public static INDArray features(ComputationGraph graph, INDArray images) {
        return BackboneGraphs.features(graph, images);
    }

    /** Logits {@code [B, classes]} (before the softmax), inference mode; fails if the graph has no head. */
    public static INDArray logits(ComputationGraph graph, INDArray images) {
        return BackboneGraphs.logits(graph, images, "Swin Transformer");
    }
}
