package org.sa2vp.backbone;

import lombok.Data;
import lombok.EqualsAndHashCode;
import lombok.NoArgsConstructor;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.sa2vp.layers.FastSameDiffLayer;
import org.sa2vp.layers.FrozenUpdater;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Common configuration of the layers of a pretrained backbone: freezing, on top of the runtime choice of every
 * layer ({@link FastSameDiffLayer}), and the input checks of the layers that embed images.
 *
 * <p>A frozen backbone layer (the default) keeps its weights bitwise unchanged under any updater and weight
 * decay ({@link FrozenUpdater}, no regularisation) but still passes the gradient to its input, which DL4J's
 * {@code FrozenLayer} does not: SA2VP trains prompts that enter the backbone below frozen blocks. The FAST
 * runtime computes no weight gradients for a frozen layer.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public abstract class BackboneLayer extends FastSameDiffLayer {

    protected boolean frozen = true;

    protected BackboneLayer(Builder<?> b) {
        super(b);
        frozen = b.frozen;
    }

    /** True for parameters that never train, even when the layer is not frozen (e.g. absent qkv biases). */
    public boolean isFixedParam(String param) {
        return false;
    }

    /** True for the pretrained backbone's parameters (all, unless a subclass adds trainable ones). */
    public boolean isBackboneParam(String param) {
        return true;
    }

    public boolean isFrozenParam(String param) {
        return (frozen && isBackboneParam(param)) || isFixedParam(param);
    }

    /** The gradient view of {@code param}, or null when it is frozen (the fast runtimes then skip its GEMM). */
    public INDArray trainableGradient(java.util.Map<String, INDArray> gradients, String param) {
        return isFrozenParam(param) ? null : gradients.get(param);
    }

    /**
     * Every parameter's {@link #trainableGradient}: the views of those that train, null for the frozen ones; null
     * before gradients exist ({@code gradients} null).
     */
    public java.util.Map<String, INDArray> trainableGradients(java.util.Map<String, INDArray> gradients) {
        if (gradients == null) {
            return null;
        }
        java.util.Map<String, INDArray> trainable = new java.util.HashMap<>();
        for (String param : gradients.keySet()) {
            trainable.put(param, trainableGradient(gradients, param));
        }
        return trainable;
    }

    /** The checks shared by every layer that embeds images into patch tokens. */
    public static void validateImageEmbedding(BackboneLayer layer, int inChannels, int imageHeight, int imageWidth,
                                              int patchSize, int hiddenSize, double dropout) {
        layer.require(inChannels > 0, "inChannels", "> 0", inChannels);
        layer.require(patchSize > 0, "patchSize", "> 0", patchSize);
        layer.require(imageHeight > 0 && imageHeight % Math.max(patchSize, 1) == 0, "imageHeight",
                "a positive multiple of patchSize " + patchSize, imageHeight);
        layer.require(imageWidth > 0 && imageWidth % Math.max(patchSize, 1) == 0, "imageWidth",
                "a positive multiple of patchSize " + patchSize, imageWidth);
        layer.require(hiddenSize > 0, "hiddenSize", "> 0", hiddenSize);
        layer.require(dropout >= 0 && dropout < 1, "dropout", "in [0, 1)", dropout);
    }

    /** Fails unless the graph feeds NCHW images of the configured size. */
    public static void checkImageType(BackboneLayer layer, InputType inputType, int channels, int height, int width) {
        if (!(inputType instanceof InputType.InputTypeConvolutional cnn) || cnn.getChannels() != channels
                || cnn.getHeight() != height || cnn.getWidth() != width) {
            throw new IllegalArgumentException(layer.getClass().getSimpleName() + " '" + layer.getLayerName()
                    + "': input must be images InputType.convolutional(" + height + ", " + width + ", " + channels
                    + ") (NCHW), got " + inputType);
        }
    }

    /** Fails unless {@code input} is {@code [batch, channels, height, width]}. */
    public static void checkImages(BackboneLayer layer, INDArray input, int channels, int height, int width) {
        if (input.rank() != 4 || input.size(1) != channels || input.size(2) != height || input.size(3) != width) {
            throw new IllegalArgumentException(layer.getClass().getSimpleName() + " '" + layer.getLayerName()
                    + "': input has shape " + Arrays.toString(input.shape()) + ", expected [batch, " + channels + ", "
                    + height + ", " + width + "] (NCHW)");
        }
    }

    @Override
    public IUpdater getUpdaterByParam(String param) {
        return isFrozenParam(param) ? new FrozenUpdater() : super.getUpdaterByParam(param);
    }

    @Override
    public List<Regularization> getRegularizationByParam(String param) {
        return isFrozenParam(param) ? Collections.emptyList() : super.getRegularizationByParam(param);
    }

    /** Builder options shared by all backbone layers: freezing. */
    @SuppressWarnings("unchecked")
    public abstract static class Builder<T extends Builder<T>> extends FastSameDiffLayer.Builder<T> {
        private boolean frozen = true;

        /** Default true: weights never change; gradients still flow to the input. */
        public T frozen(boolean frozen) {
            this.frozen = frozen;
            return (T) this;
        }
    }
}
