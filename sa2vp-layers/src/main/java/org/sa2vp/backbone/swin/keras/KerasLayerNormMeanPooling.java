package org.sa2vp.backbone.swin.keras;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.BackboneLayer;
import org.sa2vp.backbone.swin.LayerNormMeanPooling;
import org.sa2vp.backbone.swin.SwinCheckpoint;
import org.sa2vp.backbone.weights.StateDict;
import org.sa2vp.backbone.weights.keras.KerasConfig;

import java.util.Map;

/**
 * Swin's final Keras {@code LayerNormalization} (weights {@code gamma}, {@code beta [C]}) together with the
 * {@code GlobalAveragePooling1D} that is its only reader → {@link LayerNormMeanPooling}, the features
 * {@code [B, C]}. DL4J's pooling layers assume channels-first token maps, so {@link KerasSwinTransformer#importModel}
 * folds the pair into one layer of class {@link #KERAS_CLASS} (our name, not a Keras one) before DL4J parses the
 * model JSON.
 */
public class KerasLayerNormMeanPooling extends KerasSwinLayer {

    /** The class name the final LayerNormalization is renamed to when its pooling is folded into it. */
    public static final String KERAS_CLASS = "Sa2vpLayerNormMeanPooling";

    private final double epsilon;

    public KerasLayerNormMeanPooling(Map<String, Object> layerConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        this(layerConfig, true);
    }

    public KerasLayerNormMeanPooling(Map<String, Object> layerConfig, boolean enforceTrainingConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        super(layerConfig, enforceTrainingConfig);
        Map<String, Object> config = KerasConfig.inner(layerConfig);
        epsilon = KerasConfig.number(config, "epsilon", 1e-3);
        if (!KerasConfig.bool(config, "center", true) || !KerasConfig.bool(config, "scale", true)) {
            throw unsupported("center=False or scale=False is not supported before the pooling");
        }
    }

    @Override
    String kerasClass() {
        return "LayerNormalization";
    }

    @Override
    BackboneLayer build(InputType input) throws UnsupportedKerasConfigurationException {
        tokens(input, -1);
        return new LayerNormMeanPooling.Builder().hiddenSize((int) ((InputType.InputTypeRecurrent) input).getSize())
                .layerNormEps(epsilon).build();
    }

    @Override
    String timmPrefix() {
        return "norm.";
    }

    @Override
    void assign(StateDict timm, Map<String, INDArray> table) {
        SwinCheckpoint.assignFinalNorm(timm, table, layerName, ((LayerNormMeanPooling) layer).getHiddenSize());
    }
}
