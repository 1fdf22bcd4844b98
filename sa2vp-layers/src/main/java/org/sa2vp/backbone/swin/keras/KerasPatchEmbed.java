package org.sa2vp.backbone.swin.keras;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.BackboneLayer;
import org.sa2vp.backbone.swin.SwinCheckpoint;
import org.sa2vp.backbone.swin.SwinPatchEmbedding;
import org.sa2vp.backbone.weights.StateDict;
import org.sa2vp.backbone.weights.keras.KerasConfig;

import java.util.Map;

/**
 * Keras {@code PatchEmbed} (config {@code patch_size}, {@code n_feature}, {@code normalize}; weights
 * {@code proj/kernel [P, P, C, D]}, {@code proj/bias [D]}, {@code norm/gamma}, {@code norm/beta [D]}) →
 * {@link SwinPatchEmbedding}, fed through {@link NhwcToNchwPreProcessor} when the images are channels-last.
 */
public class KerasPatchEmbed extends KerasSwinLayer {

    /** The Keras class name this adapter is registered under. */
    public static final String KERAS_CLASS = "PatchEmbed";

    private final int patchSize;
    private final int features;

    public KerasPatchEmbed(Map<String, Object> layerConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        this(layerConfig, true);
    }

    public KerasPatchEmbed(Map<String, Object> layerConfig, boolean enforceTrainingConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        super(layerConfig, enforceTrainingConfig);
        Map<String, Object> config = KerasConfig.inner(layerConfig);
        patchSize = square(config, "patch_size");
        features = KerasConfig.integer(layerName, config, "n_feature", 0);
        if (config.containsKey("normalize") && config.get("normalize") == null) {
            throw unsupported("normalize null (no LayerNorm after the patch projection) is not supported; Swin's "
                    + "patch embedding has one");
        }
        requireLayerNorm(config);
    }

    @Override
    String kerasClass() {
        return KERAS_CLASS;
    }

    @Override
    BackboneLayer build(InputType input) throws UnsupportedKerasConfigurationException {
        if (!(input instanceof InputType.InputTypeConvolutional image)) {
            throw unsupported("input must be images [batch, height, width, channels], got " + input);
        }
        return checked(() -> new SwinPatchEmbedding.Builder().inChannels((int) image.getChannels())
                .imageSize((int) image.getHeight(), (int) image.getWidth()).patchSize(patchSize).hiddenSize(features)
                .layerNormEps(LAYER_NORM_EPS).build());
    }

    @Override
    InputType layerInput(InputType input) {
        return new NhwcToNchwPreProcessor().getOutputType(input);
    }

    @Override
    public InputPreProcessor getInputPreprocessor(InputType... inputType) {
        return inputType.length == 1 && inputType[0] instanceof InputType.InputTypeConvolutional image
                && image.getFormat() == CNN2DFormat.NHWC ? new NhwcToNchwPreProcessor() : null;
    }

    @Override
    String timmPrefix() {
        return "patch_embed.";
    }

    @Override
    void assign(StateDict timm, Map<String, INDArray> table) {
        SwinPatchEmbedding embedding = (SwinPatchEmbedding) layer;
        SwinCheckpoint.assignEmbedding(timm, table, layerName, features, embedding.getInChannels(), patchSize);
    }
}
