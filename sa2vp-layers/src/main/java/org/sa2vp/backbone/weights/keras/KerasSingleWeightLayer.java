package org.sa2vp.backbone.weights.keras;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.modelimport.keras.KerasLayer;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashMap;
import java.util.Map;

/**
 * A Keras layer with one input and one weight that maps onto one of our token layers (vit-keras's
 * {@code ClassToken} and {@code AddPositionEmbs}): the shared input check and weight copy.
 */
abstract class KerasSingleWeightLayer extends KerasLayer {

    KerasSingleWeightLayer(Map<String, Object> layerConfig, boolean enforceTrainingConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        super(layerConfig, enforceTrainingConfig);
    }

    /** The Keras class name, for messages. */
    abstract String kerasClass();

    /** Our parameter name and its value from the Keras weights (checked and reshaped). */
    abstract Map.Entry<String, INDArray> convert(Map<String, INDArray> kerasWeights)
            throws InvalidKerasConfigurationException;

    @Override
    public InputType getOutputType(InputType... inputType)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        InputType input = KerasConfig.singleInput(kerasClass(), layerName, inputType);
        layer.setNIn(input, false);
        return layer.getOutputType(-1, input);
    }

    @Override
    public int getNumParams() {
        return 1;
    }

    @Override
    public void setWeights(Map<String, INDArray> weights) throws InvalidKerasConfigurationException {
        Map.Entry<String, INDArray> converted = convert(weights);
        this.weights = new HashMap<>();
        this.weights.put(converted.getKey(), converted.getValue());
    }
}
