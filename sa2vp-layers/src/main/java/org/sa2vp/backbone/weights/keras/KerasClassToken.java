package org.sa2vp.backbone.weights.keras;

import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/** vit-keras {@code ClassToken} (weight {@code cls [1, 1, D]}) → {@link ClassTokenLayer} ({@code classToken [1, D]}). */
public class KerasClassToken extends KerasSingleWeightLayer {

    /** The Keras class name this adapter is registered under. */
    public static final String KERAS_CLASS = "ClassToken";

    public KerasClassToken(Map<String, Object> layerConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        this(layerConfig, true);
    }

    public KerasClassToken(Map<String, Object> layerConfig, boolean enforceTrainingConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        super(layerConfig, enforceTrainingConfig);
        layer = new ClassTokenLayer.Builder().name(layerName).build();
    }

    @Override
    String kerasClass() {
        return KERAS_CLASS;
    }

    @Override
    Map.Entry<String, INDArray> convert(Map<String, INDArray> weights) throws InvalidKerasConfigurationException {
        long dim = ((ClassTokenLayer) layer).getHiddenSize();
        return Map.entry(ClassTokenLayer.CLASS_TOKEN,
                KerasConfig.weight(layerName, weights, "cls", 1, 1, dim).reshape(1, dim));
    }
}
