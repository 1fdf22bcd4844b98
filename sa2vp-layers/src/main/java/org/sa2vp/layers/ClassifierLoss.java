package org.sa2vp.layers;

import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * The softmax loss layer that ends every classifier graph here (ViT head, VPT, SA2VP's two streams), with its width
 * set.
 *
 * <p>DL4J's {@code LossLayer.Builder} refuses {@code nIn}/{@code nOut} (the layer has no parameters), so a built
 * layer keeps {@code nOut = 0}: its output type is {@code feedForward(0)}, and every graph that works out its
 * activation types logs "Assigning a size of zero. This is normally only valid in model import cases". Setting both
 * on the built layer gives the true output type, {@code [batch, classes]}, and nothing else changes.
 */
public final class ClassifierLoss {

    private ClassifierLoss() {
    }

    /** Softmax followed by {@code loss} on {@code [batch, classes]} logits. */
    public static LossLayer softmax(int classes, ILossFunction loss) {
        if (classes < 1) {
            throw new IllegalArgumentException("classes must be >= 1, got " + classes);
        }
        LossLayer layer = new LossLayer.Builder(loss).activation(Activation.SOFTMAX).build();
        layer.setNIn(classes);
        layer.setNOut(classes);
        return layer;
    }
}
