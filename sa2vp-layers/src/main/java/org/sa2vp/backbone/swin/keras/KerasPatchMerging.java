package org.sa2vp.backbone.swin.keras;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.BackboneLayer;
import org.sa2vp.backbone.swin.PatchMerging;
import org.sa2vp.backbone.swin.SwinCheckpoint;
import org.sa2vp.backbone.weights.StateDict;
import org.sa2vp.backbone.weights.keras.KerasConfig;

import java.util.Map;

/**
 * Keras {@code PatchMerging} (config {@code image_shape [h, w]}, {@code normalize}; weights
 * {@code norm/gamma}, {@code norm/beta [4C]}, {@code reduction/kernel [4C, 2C]}, no bias) → {@link PatchMerging}:
 * the 2×2 neighbours concatenated as x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2], as in Microsoft's
 * code and timm.
 */
public class KerasPatchMerging extends KerasSwinLayer {

    /** The Keras class name this adapter is registered under. */
    public static final String KERAS_CLASS = "PatchMerging";

    private final int[] grid;

    public KerasPatchMerging(Map<String, Object> layerConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        this(layerConfig, true);
    }

    public KerasPatchMerging(Map<String, Object> layerConfig, boolean enforceTrainingConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        super(layerConfig, enforceTrainingConfig);
        Map<String, Object> config = KerasConfig.inner(layerConfig);
        grid = imageShape(config);
        requireLayerNorm(config);
    }

    @Override
    String kerasClass() {
        return KERAS_CLASS;
    }

    @Override
    BackboneLayer build(InputType input) throws UnsupportedKerasConfigurationException {
        requireGrid(input, grid);
        return checked(() -> new PatchMerging.Builder().hiddenSize((int) ((InputType.InputTypeRecurrent) input)
                .getSize()).grid(grid[0], grid[1]).layerNormEps(LAYER_NORM_EPS).build());
    }

    @Override
    void assign(StateDict timm, Map<String, INDArray> table) {
        SwinCheckpoint.assignMerging(timm, "", table, layerName, ((PatchMerging) layer).getHiddenSize());
    }
}
