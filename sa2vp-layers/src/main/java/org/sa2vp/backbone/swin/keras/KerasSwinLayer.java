package org.sa2vp.backbone.swin.keras;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.modelimport.keras.KerasLayer;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.BackboneLayer;
import org.sa2vp.backbone.weights.StateDict;
import org.sa2vp.backbone.weights.keras.KerasConfig;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A Keras Swin layer with one input that becomes one of the Swin family's layers. The layer is built when DL4J
 * infers the input type (widths and token counts come from it); its weights are converted to timm's names
 * ({@link KerasSwinWeights}) and copied by the family's own layout code.
 */
abstract class KerasSwinLayer extends KerasLayer {

    /** Keras's LayerNorm epsilon in the Swin layers, which SwinTransformer-Tensorflow2 fixes at 1e-5. */
    static final double LAYER_NORM_EPS = 1e-5;

    KerasSwinLayer(Map<String, Object> layerConfig, boolean enforceTrainingConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        super(layerConfig, enforceTrainingConfig);
    }

    /** The Keras class name, for messages. */
    abstract String kerasClass();

    /** Our layer for this input type (as the previous Keras layer gives it). */
    abstract BackboneLayer build(InputType input) throws UnsupportedKerasConfigurationException;

    /** Copies the layer's weights, in timm names under {@link #timmPrefix()}, into {@code table}. */
    abstract void assign(StateDict timm, Map<String, INDArray> table);

    /** The timm name prefix of this layer's weights ({@code ""}, {@code "patch_embed."}, ...). */
    String timmPrefix() {
        return "";
    }

    /** The input type our layer sees (after {@link #getInputPreprocessor}, if any). */
    InputType layerInput(InputType input) {
        return input;
    }

    @Override
    public InputType getOutputType(InputType... inputType)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        InputType input = KerasConfig.singleInput(kerasClass(), layerName, inputType);
        BackboneLayer built = build(input);
        built.setLayerName(layerName);
        layer = built;
        return built.getOutputType(-1, layerInput(input));
    }

    @Override
    public int getNumParams() {
        return layer == null ? 0 : ((BackboneLayer) layer).getLayerParams().getParamShapes().size();
    }

    @Override
    public void setWeights(Map<String, INDArray> kerasWeights) throws InvalidKerasConfigurationException {
        Map<String, INDArray> table = KerasSwinWeights.emptyTable((BackboneLayer) layer);
        try {
            assign(KerasSwinWeights.toTimm(kerasWeights, timmPrefix()), table);
        } catch (RuntimeException e) {
            throw new InvalidKerasConfigurationException(kerasClass() + " '" + layerName + "': " + e.getMessage()
                    + " (Keras weights found: " + kerasWeights.keySet() + ")");
        }
        weights = table;
    }

    /** An int field written as {@code n} or {@code [n, n]} (square only). */
    int square(Map<String, Object> config, String field) throws UnsupportedKerasConfigurationException {
        Object value = config.get(field);
        if (value instanceof List<?> list && list.size() == 2 && list.get(0) instanceof Number a
                && list.get(1) instanceof Number b && a.intValue() == b.intValue()) {
            return a.intValue();
        }
        if (value instanceof Number n) {
            return n.intValue();
        }
        throw unsupported(field + " must be an integer or a square [n, n], got " + value);
    }

    /** The {@code image_shape} field {@code [height, width]} of blocks and mergings. */
    int[] imageShape(Map<String, Object> config) throws UnsupportedKerasConfigurationException {
        if (config.get("image_shape") instanceof List<?> list && list.size() == 2
                && list.get(0) instanceof Number h && list.get(1) instanceof Number w) {
            return new int[]{h.intValue(), w.intValue()};
        }
        throw unsupported("image_shape must be [height, width], got " + config.get("image_shape"));
    }

    /** Refuses a {@code normalize} other than Keras's LayerNormalization (by class name; absent means it). */
    void requireLayerNorm(Map<String, Object> config) throws UnsupportedKerasConfigurationException {
        Object normalize = config.get("normalize");
        if (normalize != null && !"LayerNormalization".equals(normalize)) {
            throw unsupported("normalize '" + normalize + "' is not supported, only LayerNormalization");
        }
    }

    /** The token count of a token-map input type, which must be {@code width} wide. */
    long tokens(InputType input, long width) throws UnsupportedKerasConfigurationException {
        if (!(input instanceof InputType.InputTypeRecurrent rnn) || (width > 0 && rnn.getSize() != width)) {
            throw unsupported("input must be a token map [batch, tokens, " + (width > 0 ? width : "width")
                    + "], got " + input);
        }
        return rnn.getTimeSeriesLength();
    }

    /** Checks that a token-map input type has the tokens of the {@code image_shape} {@code grid}. */
    void requireGrid(InputType input, int[] grid) throws UnsupportedKerasConfigurationException {
        long tokens = tokens(input, -1);
        if (tokens > 0 && tokens != (long) grid[0] * grid[1]) {
            throw unsupported("image_shape " + grid[0] + "x" + grid[1] + " does not match the input's " + tokens
                    + " tokens");
        }
    }

    /** The layer {@code builder} builds; a configuration its builder refuses is unsupported, in the builder's words. */
    BackboneLayer checked(Supplier<BackboneLayer> builder) throws UnsupportedKerasConfigurationException {
        try {
            return builder.get();
        } catch (IllegalArgumentException e) {
            throw unsupported(e.getMessage());
        }
    }

    UnsupportedKerasConfigurationException unsupported(String what) {
        return new UnsupportedKerasConfigurationException(kerasClass() + " '" + layerName + "': " + what);
    }
}
