package org.sa2vp.backbone.weights.keras;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.modelimport.keras.KerasLayer;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashMap;
import java.util.Map;

/**
 * vit-keras {@code AddPositionEmbs} (weight {@code pos_embedding [1, T, D]}) → {@link PositionEmbeddingLayer}
 * ({@code positionEmbedding [T, D]}).
 */
public class KerasAddPositionEmbs extends KerasLayer {

    /** The Keras class name this adapter is registered under. */
    public static final String KERAS_CLASS = "AddPositionEmbs";

    public KerasAddPositionEmbs(Map<String, Object> layerConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        this(layerConfig, true);
    }

    public KerasAddPositionEmbs(Map<String, Object> layerConfig, boolean enforceTrainingConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        super(layerConfig, enforceTrainingConfig);
        layer = new PositionEmbeddingLayer.Builder().name(layerName).build();
    }

    @Override
    public InputType getOutputType(InputType... inputType)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        if (inputType.length != 1) {
            throw new InvalidKerasConfigurationException("AddPositionEmbs '" + layerName + "': expected 1 input, got "
                    + inputType.length);
        }
        layer.setNIn(inputType[0], false);
        return layer.getOutputType(-1, inputType[0]);
    }

    @Override
    public int getNumParams() {
        return 1;
    }

    @Override
    public void setWeights(Map<String, INDArray> weights) throws InvalidKerasConfigurationException {
        PositionEmbeddingLayer positions = (PositionEmbeddingLayer) layer;
        long tokens = positions.getTokens(), dim = positions.getHiddenSize();
        this.weights = new HashMap<>();
        this.weights.put(PositionEmbeddingLayer.POSITION_EMBEDDING,
                KerasConfig.weight(layerName, weights, "pos_embedding", 1, tokens, dim).reshape(tokens, dim));
    }
}
