package org.sa2vp.backbone;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What every family's plain backbone graph shares (the ViT's {@code VisionTransformer}, the Swin's
 * {@code SwinTransformer}): the pooled features in vertex {@link #FEATURES}, the optional classification head in
 * {@link #HEAD} (timm's names), and running the graph to either in inference mode.
 */
public final class BackboneGraphs {

    /** The vertex of the pooled final-norm features {@code [B, D]}. */
    public static final String FEATURES = "norm";
    /** The classification head's vertex, absent without classes. */
    public static final String HEAD = "head";

    private BackboneGraphs() {
    }

    /** A new, initialised graph with random weights. */
    public static ComputationGraph create(ComputationGraphConfiguration configuration) {
        ComputationGraph graph = new ComputationGraph(configuration);
        graph.init();
        return graph;
    }

    /** Features {@code [B, D]} (vertex {@link #FEATURES}) for images {@code [B, C, H, W]}, inference mode. */
    public static INDArray features(ComputationGraph graph, INDArray images) {
        return graph.feedForward(new INDArray[]{images}, false).get(FEATURES);
    }

    /**
     * Logits {@code [B, classes]} (before the softmax; vertex {@link #HEAD}), inference mode.
     *
     * @param model how the message names the model, e.g. "ViT"
     * @throws IllegalStateException when the graph has no head
     */
    public static INDArray logits(ComputationGraph graph, INDArray images, String model) {
        if (graph.getVertex(HEAD) == null) {
            throw new IllegalStateException("This " + model + " has no classifier head (numClasses = 0)");
        }
        return graph.feedForward(new INDArray[]{images}, false).get(HEAD);
    }
}
