package org.sa2vp.backbone.weights.keras;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.modelimport.keras.KerasLayer;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashMap;
import java.util.Map;

/** vit-keras {@code ClassToken} (weight {@code cls [1, 1, D]}) → {@link ClassTokenLayer} ({@code classToken [1, D]}). */
public class KerasClassToken extends KerasLayer {

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
    public InputType getOutputType(InputType... inputType)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        if (inputType.length != 1) {
            throw new InvalidKerasConfigurationException("ClassToken '" + layerName + "': expected 1 input, got "
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
        long dim = ((ClassTokenLayer) layer).getHiddenSize();
        this.weights = new HashMap<>();
        this.weights.put(ClassTokenLayer.CLASS_TOKEN, KerasConfig.weight(layerName, weights, "cls", 1, 1, dim)
                .reshape(1, dim));
    }
}
