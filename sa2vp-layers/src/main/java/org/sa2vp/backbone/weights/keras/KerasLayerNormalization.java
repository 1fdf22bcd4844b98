package org.sa2vp.backbone.weights.keras;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.modelimport.keras.KerasLayer;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Keras {@code LayerNormalization} over the last axis of a token map → {@link TokenLayerNorm}. Keras weights
 * {@code gamma [D]}, {@code beta [D]} become {@code [1, D]}; with {@code scale=False} / {@code center=False}
 * Keras stores no gamma / beta and they are imported as 1 / 0.
 */
public class KerasLayerNormalization extends KerasLayer {

    /** The Keras class name this adapter is registered under. */
    public static final String KERAS_CLASS = "LayerNormalization";

    private final Object axis;
    private final boolean center;
    private final boolean scale;

    public KerasLayerNormalization(Map<String, Object> layerConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        this(layerConfig, true);
    }

    public KerasLayerNormalization(Map<String, Object> layerConfig, boolean enforceTrainingConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        super(layerConfig, enforceTrainingConfig);
        Map<String, Object> config = KerasConfig.inner(layerConfig);
        axis = config.get("axis");
        center = KerasConfig.bool(config, "center", true);
        scale = KerasConfig.bool(config, "scale", true);
        layer = new TokenLayerNorm.Builder().name(layerName)
                .epsilon(KerasConfig.number(config, "epsilon", 1e-3)).build();
    }

    private TokenLayerNorm tokenLayerNorm() {
        return (TokenLayerNorm) layer;
    }

    @Override
    public InputType getOutputType(InputType... inputType)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        InputType input = KerasConfig.singleInput(KERAS_CLASS, layerName, inputType);
        Object single = axis instanceof List<?> list && list.size() == 1 ? list.get(0) : axis;
        boolean lastAxis = single == null || single instanceof Number n && (n.intValue() == -1 || n.intValue() == 2);
        if (!lastAxis) {
            throw new UnsupportedKerasConfigurationException("LayerNormalization '" + layerName + "': axis " + axis
                    + " is not supported, only the channel axis (-1) of [batch, tokens, channels]");
        }
        tokenLayerNorm().setNIn(input, false);
        return tokenLayerNorm().getOutputType(-1, input);
    }

    @Override
    public int getNumParams() {
        return (center ? 1 : 0) + (scale ? 1 : 0);
    }

    @Override
    public void setWeights(Map<String, INDArray> weights) throws InvalidKerasConfigurationException {
        long dim = tokenLayerNorm().getHiddenSize();
        this.weights = new HashMap<>();
        this.weights.put(TokenLayerNorm.GAMMA, scale
                ? KerasConfig.weight(layerName, weights, "gamma", dim).reshape(1, dim)
                : Nd4j.ones(1, dim));
        this.weights.put(TokenLayerNorm.BETA, center
                ? KerasConfig.weight(layerName, weights, "beta", dim).reshape(1, dim)
                : Nd4j.zeros(1, dim));
    }
}
