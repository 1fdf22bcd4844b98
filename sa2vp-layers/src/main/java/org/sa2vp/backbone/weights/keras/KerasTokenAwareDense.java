package org.sa2vp.backbone.weights.keras;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.layers.core.KerasDense;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashMap;
import java.util.Map;

/**
 * Keras {@code Dense} for ViTs: on a token map it becomes a {@link TokenDense} (DL4J's {@code DenseLayer} would
 * leave the tokens flattened to {@code [B·T, D]}), on {@code [B, D]} input DL4J's own {@code DenseLayer}; and
 * {@code activation="gelu"} becomes {@link ExactGeluActivation} (erf form, Keras's default).
 *
 * <p>DL4J 1.0.0-M2.1 maps no Keras activation to GELU and looks custom layers up only after its built-in classes,
 * so a custom class cannot take over "Dense": {@link KerasVisionTransformer#importModel} renames the class of every
 * Dense layer to {@link #KERAS_CLASS} in the model JSON before DL4J parses it. Weights are DL4J's Keras Dense
 * weights ({@code W [in, out]}, {@code b}), with the bias as {@code [1, out]} for {@link TokenDense}.
 */
public class KerasTokenAwareDense extends KerasDense {

    /** The class name Dense layers are renamed to before the import. */
    public static final String KERAS_CLASS = "Sa2vpDense";

    private final IActivation activation;
    private final long units;
    private final boolean useBias;

    public KerasTokenAwareDense(Map<String, Object> layerConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        this(layerConfig, true);
    }

    public KerasTokenAwareDense(Map<String, Object> layerConfig, boolean enforceTrainingConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        super(asDl4jDense(layerConfig), enforceTrainingConfig);
        Map<String, Object> config = KerasConfig.inner(layerConfig);
        activation = "gelu".equals(config.get("activation")) ? new ExactGeluActivation()
                : getDenseLayer().getActivationFn();
        getDenseLayer().setActivationFn(activation);
        units = getDenseLayer().getNOut();
        useBias = KerasConfig.bool(config, "use_bias", true);
    }

    /** The configuration DL4J's KerasDense can parse: class "Dense" and, for gelu, a linear activation. */
    private static Map<String, Object> asDl4jDense(Map<String, Object> layerConfig) {
        Map<String, Object> copy = new HashMap<>(layerConfig);
        Map<String, Object> config = new HashMap<>(KerasConfig.inner(layerConfig));
        if ("gelu".equals(config.get("activation"))) {
            config.put("activation", "linear");
        }
        copy.put("config", config);
        copy.put("class_name", "Dense");
        return copy;
    }

    @Override
    public InputType getOutputType(InputType... inputType) throws InvalidKerasConfigurationException {
        if (inputType.length == 1 && inputType[0] instanceof InputType.InputTypeRecurrent) {
            if (!(layer instanceof TokenDense)) {
                layer = new TokenDense.Builder().name(layerName).outputSize(units).hasBias(useBias)
                        .activation(activation).build();
            }
            layer.setNIn(inputType[0], false);
            return layer.getOutputType(-1, inputType[0]);
        }
        return super.getOutputType(inputType);
    }

    @Override
    public void setWeights(Map<String, INDArray> weights) throws InvalidKerasConfigurationException {
        super.setWeights(weights);
        if (layer instanceof TokenDense && useBias) {
            this.weights.put(TokenDense.BIAS, this.weights.get(TokenDense.BIAS).reshape(1, units));
        }
    }
}
