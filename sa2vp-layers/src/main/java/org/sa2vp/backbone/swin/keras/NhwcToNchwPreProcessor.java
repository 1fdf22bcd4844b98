package org.sa2vp.backbone.swin.keras;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.preprocessor.BaseInputPreProcessor;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Keras's channels-last images {@code [B, H, W, C]} as the channels-first {@code [B, C, H, W]} that
 * {@link org.sa2vp.backbone.swin.SwinPatchEmbedding} reads (the gradient goes back the other way). Written here
 * because DL4J 1.0.0-M2.1's {@code PermutePreprocessor} (made for Keras's {@code Permute} layer) builds the output
 * type of images as {@code convolutional(width, height, channels)} whatever the permutation, which is wrong for
 * NHWC → NCHW of non-square images.
 */
public class NhwcToNchwPreProcessor extends BaseInputPreProcessor {

    @Override
    public INDArray preProcess(INDArray input, int miniBatchSize, LayerWorkspaceMgr workspaceMgr) {
        return workspaceMgr.dup(ArrayType.ACTIVATIONS, input.permute(0, 3, 1, 2), 'c');
    }

    @Override
    public INDArray backprop(INDArray output, int miniBatchSize, LayerWorkspaceMgr workspaceMgr) {
        return workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, output.permute(0, 2, 3, 1), 'c');
    }

    /** {@code convolutional(H, W, C)} in either format becomes the same image in NCHW. */
    @Override
    public InputType getOutputType(InputType inputType) {
        if (!(inputType instanceof InputType.InputTypeConvolutional image)) {
            throw new IllegalArgumentException("NHWC to NCHW: expected images InputType.convolutional(H, W, C), got "
                    + inputType);
        }
        return InputType.convolutional(image.getHeight(), image.getWidth(), image.getChannels());
    }

    @Override
    public NhwcToNchwPreProcessor clone() {
        return new NhwcToNchwPreProcessor();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NhwcToNchwPreProcessor;
    }

    @Override
    public int hashCode() {
        return NhwcToNchwPreProcessor.class.hashCode();
    }
}
