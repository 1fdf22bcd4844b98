package org.sa2vp.backbone.weights.keras;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Reading fields of a parsed Keras layer configuration ({@code {"class_name", "config": {...}, "inbound_nodes"}})
 * and checking imported weight shapes, with one-line errors that name the layer; shared by the Keras loaders of the
 * ViT and Swin families.
 */
public final class KerasConfig {

    private KerasConfig() {
    }

    /** The layer's {@code "config"} map. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> inner(Map<String, Object> layerConfig) {
        Object inner = layerConfig.get("config");
        return inner instanceof Map ? (Map<String, Object>) inner : Map.of();
    }

    /** A number field; {@code defaultValue} when absent or not a number. */
    public static double number(Map<String, Object> config, String field, double defaultValue) {
        Object value = config.get(field);
        return value instanceof Number n ? n.doubleValue() : defaultValue;
    }

    /** A boolean field; {@code defaultValue} when absent or not a boolean. */
    public static boolean bool(Map<String, Object> config, String field, boolean defaultValue) {
        Object value = config.get(field);
        return value instanceof Boolean b ? b : defaultValue;
    }

    /** An integer field that Keras may write as {@code n} or {@code [n]}; {@code defaultValue} when null/absent. */
    public static int integer(String layer, Map<String, Object> config, String field, int defaultValue)
            throws UnsupportedKerasConfigurationException {
        Object value = config.get(field);
        if (value == null) {
            return defaultValue;
        }
        if (value instanceof List<?> list && list.size() == 1) {
            value = list.get(0);
        }
        if (!(value instanceof Number n)) {
            throw new UnsupportedKerasConfigurationException("layer '" + layer + "': " + field
                    + " must be an integer, got " + value);
        }
        return n.intValue();
    }

    /**
     * The one input type of a layer that takes one.
     *
     * @param kerasClass the layer's Keras class, for the message
     * @throws InvalidKerasConfigurationException "CLASS 'layer': expected 1 input, got N"
     */
    public static InputType singleInput(String kerasClass, String layer, InputType... inputType)
            throws InvalidKerasConfigurationException {
        if (inputType.length != 1) {
            throw new InvalidKerasConfigurationException(kerasClass + " '" + layer + "': expected 1 input, got "
                    + inputType.length);
        }
        return inputType[0];
    }

    /** The weight, checked to have the given shape (-1 matches any size). */
    public static INDArray weight(String layer, Map<String, INDArray> weights, String name, long... shape)
            throws InvalidKerasConfigurationException {
        INDArray value = weights.get(name);
        if (value == null) {
            throw new InvalidKerasConfigurationException("layer '" + layer + "': missing weight '" + name
                    + "' (found " + weights.keySet() + ")");
        }
        boolean matches = value.rank() == shape.length;
        for (int i = 0; matches && i < shape.length; i++) {
            matches = shape[i] < 0 || shape[i] == value.size(i);
        }
        if (!matches) {
            throw new InvalidKerasConfigurationException("layer '" + layer + "': weight '" + name + "' has shape "
                    + Arrays.toString(value.shape()) + ", expected " + Arrays.toString(shape));
        }
        return value;
    }
}
