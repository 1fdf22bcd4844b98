package org.sa2vp.backbone.vit;

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
import org.sa2vp.layers.Parameters;

import java.util.Map;

/**
 * The ViT family as a DL4J {@link ComputationGraph} built from {@link PatchEmbedding},
 * {@link TransformerBlock} and {@link PooledLayerNorm}:
 * <pre>
 *   image [B,C,H,W] → patch_embed [B,T,D] → blocks.0 … blocks.{depth-1} → norm [B,D] (features)
 *                   → head [B,classes] (logits) → output (softmax + cross-entropy)
 * </pre>
 * Backbone layers are frozen by default yet pass gradients to their input, so the graph is a frozen feature
 * extractor that prompts or adapters can be trained through; the head trains. Without classes the graph ends
 * at {@code norm}. Vertex names follow timm's module names.
 */
public final class VisionTransformer {

    public static final String INPUT = "image";
    public static final String EMBEDDING = "patch_embed";
    public static final String FEATURES = BackboneGraphs.FEATURES;
    public static final String HEAD = BackboneGraphs.HEAD;
    public static final String OUTPUT = "output";

    private VisionTransformer() {
    }

    public static String block(int index) {
        return "blocks." + index;
    }

    /** Graph configuration with float32, Adam(1e-3) for the trainable parts, seed 42. */
    public static ComputationGraphConfiguration configuration(VisionTransformerConfig config) {
        return configuration(config, new NeuralNetConfiguration.Builder().seed(42).dataType(DataType.FLOAT)
                .updater(new Adam(1e-3)), true);
    }

    /**
     * Graph configuration on the given global settings (updater, seed, data type, regularisation).
     *
     * @param frozen whether the backbone layers are frozen (false: full fine-tuning)
     */
    public static ComputationGraphConfiguration configuration(VisionTransformerConfig config,
                                                              NeuralNetConfiguration.Builder globals, boolean frozen) {
        return configuration(config, globals, frozen, Implementation.FAST);
    }

    /** As above, with the runtime of the backbone layers ({@link Implementation#SAMEDIFF}: the checked reference). */
    public static ComputationGraphConfiguration configuration(VisionTransformerConfig config,
                                                              NeuralNetConfiguration.Builder globals, boolean frozen,
                                                              Implementation implementation) {
        config.validated();
        int d = config.getHiddenSize();
        ComputationGraphConfiguration.GraphBuilder g = globals.graphBuilder().addInputs(INPUT)
                .setInputTypes(InputType.convolutional(config.getImageHeight(), config.getImageWidth(),
                        config.getInChannels()));
        addFeatureExtractor(g, config, INPUT, frozen, implementation);
        if (config.getNumClasses() > 0) {
            g.addLayer(HEAD, new DenseLayer.Builder().nIn(d).nOut(config.getNumClasses())
                    .activation(Activation.IDENTITY).build(), FEATURES);
            g.addLayer(OUTPUT, ClassifierLoss.softmax(config.getNumClasses(), new LossMCXENT()), HEAD);
            g.setOutputs(OUTPUT);
        } else {
            g.setOutputs(FEATURES);
        }
        return g.build();
    }

    /**
     * Adds embedding, blocks and the pooled final norm ({@link #EMBEDDING}, {@link #block}, {@link #FEATURES}) after
     * vertex {@code input} (images {@code [B, C, H, W]}); returns {@link #FEATURES}, the features {@code [B, D]}.
     */
    public static String addFeatureExtractor(ComputationGraphConfiguration.GraphBuilder g,
                                             VisionTransformerConfig config, String input, boolean frozen,
                                             Implementation implementation) {
        int d = config.getHiddenSize();
        g.addLayer(EMBEDDING, new PatchEmbedding.Builder().inChannels(config.getInChannels())
                .imageSize(config.getImageHeight(), config.getImageWidth()).patchSize(config.getPatchSize())
                .hiddenSize(d).classToken(config.isClassToken()).dropout(config.getDropout()).frozen(frozen)
                .implementation(implementation).build(), input);
        String previous = EMBEDDING;
        for (int i = 0; i < config.getDepth(); i++) {
            g.addLayer(block(i), new TransformerBlock.Builder().hiddenSize(d).numHeads(config.getNumHeads())
                    .mlpSize(config.effectiveMlpSize()).layerNormEps(config.getLayerNormEps())
                    .dropout(config.getDropout()).qkvBias(config.isQkvBias()).frozen(frozen)
                    .implementation(implementation).build(), previous);
            previous = block(i);
        }
        g.addLayer(FEATURES, new PooledLayerNorm.Builder().hiddenSize(d).pooling(config.getPooling())
                .classToken(config.isClassToken()).layerNormEps(config.getLayerNormEps()).frozen(frozen)
                .implementation(implementation).build(),
                previous);
        return FEATURES;
    }

    /** A new, initialised graph with random weights. */
    public static ComputationGraph create(VisionTransformerConfig config) {
        return BackboneGraphs.create(configuration(config));
    }

    /** Features {@code [B, D]} (final-norm pooled token) for images {@code [B, C, H, W]}, inference mode. */
    public static INDArray features(ComputationGraph graph, INDArray images) {
        return BackboneGraphs.features(graph, images);
    }

    /** Logits {@code [B, classes]} (before the softmax), inference mode; fails if the graph has no head. */
    public static INDArray logits(ComputationGraph graph, INDArray images) {
        return BackboneGraphs.logits(graph, images, "ViT");
    }

    /** Block {@code index}'s parameters by name ({@link org.sa2vp.layers.runtime.BlockWeights#NAMES}). */
    public static Map<String, INDArray> blockWeights(ComputationGraph graph, int index) {
        return Parameters.of(graph, block(index));
    }

    /** The position embedding {@code [T, D]} (a view: assign, do not replace). */
    public static INDArray positionEmbedding(ComputationGraph graph) {
        return Parameters.of(graph, EMBEDDING).get(PatchEmbedding.POSITION_EMBEDDING);
    }
}
