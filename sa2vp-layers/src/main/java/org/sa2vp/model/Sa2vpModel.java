package org.sa2vp.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.SubsetVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.layers.DualPathwayVertex;
import org.sa2vp.layers.ClassifierLoss;
import org.sa2vp.layers.Implementation;
import org.sa2vp.layers.InteractionDirection;
import org.sa2vp.layers.Parameters;

import java.util.Map;

/**
 * SA2VP-ViT as a DL4J {@link ComputationGraph}:
 * <pre>
 *   image [B,C,H,W] → embeddings [B,2T,D] (image stream ; prompt stream)
 *                   → layer.0 … layer.{depth-1}   ({@link DualPathwayVertex}: frozen block on both streams + interaction)
 *                   → head [B,2C] (frozen final LayerNorm, one shared linear head)
 *                   → image_logits [B,C] → image_loss   (softmax cross-entropy × λ)
 *                   → prompt_logits [B,C] → prompt_loss (softmax cross-entropy × (1−λ))
 * </pre>
 * Train with a {@link org.nd4j.linalg.dataset.MultiDataSet} whose two label arrays are the same one-hot labels
 * (see {@link #labels}); the score is then {@code λ·CE(image) + (1−λ)·CE(prompt)}. Predictions and accuracy use
 * the image logits, as the authors'.
 */
public final class Sa2vpModel {

    public static final String INPUT = "image";
    public static final String EMBEDDINGS = "embeddings";
    public static final String HEAD = "head";
    public static final String IMAGE_LOGITS = "image_logits";
    public static final String PROMPT_LOGITS = "prompt_logits";
    public static final String IMAGE_LOSS = "image_loss";
    public static final String PROMPT_LOSS = "prompt_loss";

    private Sa2vpModel() {
    }

    public static String layer(int index) {
        return "layer." + index;
    }

    /** Float32, Adam(1e-3), seed 42; the training recipe ({@code org.sa2vp.train}) sets its own updater. */
    public static ComputationGraphConfiguration configuration(Sa2vpConfig config) {
        return configuration(config, defaultGlobals(), Implementation.FAST);
    }

    /** The global settings of {@link #create}: float32, Adam(1e-3), seed 42. */
    public static NeuralNetConfiguration.Builder defaultGlobals() {
        return new NeuralNetConfiguration.Builder().seed(42).dataType(DataType.FLOAT).updater(new Adam(1e-3));
    }

    public static ComputationGraphConfiguration configuration(Sa2vpConfig config, NeuralNetConfiguration.Builder globals,
                                                              Implementation implementation) {
        config.validated();
        VisionTransformerConfig vit = config.getBackbone();
        int d = vit.getHiddenSize(), classes = config.getNumClasses();
        double dropout = config.getDropout();
        ComputationGraphConfiguration.GraphBuilder g = globals.graphBuilder().addInputs(INPUT)
                .setInputTypes(InputType.convolutional(vit.getImageHeight(), vit.getImageWidth(), vit.getInChannels()));
        Sa2vpEmbedding embedding = new Sa2vpEmbedding.Builder().inChannels(vit.getInChannels())
                .imageSize(vit.getImageHeight(), vit.getImageWidth()).patchSize(vit.getPatchSize()).hiddenSize(d)
                .promptRank(config.getPromptRank()).dropout(dropout).implementation(implementation).build();
        g.addLayer(EMBEDDINGS, embedding, INPUT);
        String previous = EMBEDDINGS;
        for (int i = 0; i < vit.getDepth(); i++) {
            g.addVertex(layer(i), new DualPathwayVertex.Builder().hiddenSize(d).numHeads(vit.getNumHeads())
                    .mlpSize(vit.effectiveMlpSize()).imageGrid(vit.gridHeight(), vit.gridWidth()).classToken(true)
                    .direction(config.imageToPrompt(i) ? InteractionDirection.IMAGE_TO_PROMPT
                            : InteractionDirection.PROMPT_TO_IMAGE)
                    .attentionMode(config.getAttentionMode()).windowSize(config.getWindowSize())
                    .gamma(config.getGamma()).adapter(config.isAdapter()).adapterSize(config.getAdapterSize())
                    .adapterActivation(config.getAdapterActivation()).deepPrompt(config.deepPromptIndex(i) >= 0)
                    .deepPromptRank(config.getPromptRank()).layerNormEps(vit.getLayerNormEps())
                    .blockDropout(dropout).attentionDropout(dropout).adapterDropout(dropout)
                    .implementation(implementation).build(), previous);
            previous = layer(i);
        }
        g.addLayer(HEAD, new DualStreamHead.Builder().hiddenSize(d).streamTokens(embedding.streamTokens())
                .numClasses(classes).layerNormEps(vit.getLayerNormEps()).implementation(implementation).build(),
                previous);
        g.addVertex(IMAGE_LOGITS, new SubsetVertex(0, classes - 1), HEAD);
        g.addVertex(PROMPT_LOGITS, new SubsetVertex(classes, 2 * classes - 1), HEAD);
        g.addLayer(IMAGE_LOSS, weightedCrossEntropy(classes, config.getLossWeight()), IMAGE_LOGITS);
        g.addLayer(PROMPT_LOSS, weightedCrossEntropy(classes, 1 - config.getLossWeight()), PROMPT_LOGITS);
        return g.setOutputs(IMAGE_LOSS, PROMPT_LOSS).build();
    }

    /** Softmax cross-entropy scaled by {@code weight} (a constant class weight scales the loss exactly). */
    static LossLayer weightedCrossEntropy(int classes, double weight) {
        return ClassifierLoss.softmax(classes,
                new LossMCXENT(Nd4j.valueArrayOf(new long[]{1, classes}, weight, DataType.DOUBLE)));
    }

    /** A new graph with random backbone stand-ins and the authors' prompt/adapter/head initialisation. */
    public static ComputationGraph create(Sa2vpConfig config) {
        ComputationGraph graph = new ComputationGraph(configuration(config));
        graph.init();
        return graph;
    }

    /** Copies a ViT checkpoint into the frozen parts: embedding, every block, the final norm. */
    public static void loadBackbone(ComputationGraph graph, Sa2vpConfig config, VitCheckpoint checkpoint) {
        VisionTransformerConfig vit = config.getBackbone();
        checkpoint.assignEmbedding(Parameters.of(graph, EMBEDDINGS), EMBEDDINGS, vit);
        for (int i = 0; i < vit.getDepth(); i++) {
            checkpoint.assignBlock(i, Parameters.of(graph, layer(i)), layer(i), vit);
        }
        checkpoint.assignFinalNorm(Parameters.of(graph, HEAD), HEAD, vit);
    }

    /** The two label arrays the graph trains on: the same one-hot labels for both outputs. */
    public static INDArray[] labels(INDArray oneHot) {
        return new INDArray[]{oneHot, oneHot};
    }

    /** Image and prompt logits {@code [B, C]} each, inference mode (dropout off). */
    public static INDArray[] logits(ComputationGraph graph, INDArray images) {
        Map<String, INDArray> activations = graph.feedForward(new INDArray[]{images}, false);
        return new INDArray[]{activations.get(IMAGE_LOGITS), activations.get(PROMPT_LOGITS)};
    }
}
