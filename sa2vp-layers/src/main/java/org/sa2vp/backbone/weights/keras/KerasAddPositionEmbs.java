package org.sa2vp.backbone.weights.keras;

import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/**
 * vit-keras {@code AddPositionEmbs} (weight {@code pos_embedding [1, T, D]}) → {@link PositionEmbeddingLayer}
 * ({@code positionEmbedding [T, D]}).
 */
public class KerasAddPositionEmbs extends KerasSingleWeightLayer {

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
    String kerasClass() {
        return KERAS_CLASS;
    }

    @Override
    Map.Entry<String, INDArray> convert(Map<String, INDArray> weights) throws InvalidKerasConfigurationException {
        PositionEmbeddingLayer positions = (PositionEmbeddingLayer) layer;
        long tokens = positions.getTokens(), dim = positions.getHiddenSize();
        return Map.entry(PositionEmbeddingLayer.POSITION_EMBEDDING,
                KerasConfig.weight(layerName, weights, "pos_embedding", 1, tokens, dim).reshape(tokens, dim));
    }
}
