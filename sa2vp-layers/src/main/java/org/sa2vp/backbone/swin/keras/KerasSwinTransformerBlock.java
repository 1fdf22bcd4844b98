package org.sa2vp.backbone.swin.keras;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.BackboneLayer;
import org.sa2vp.backbone.swin.SwinBlock;
import org.sa2vp.backbone.swin.SwinCheckpoint;
import org.sa2vp.backbone.weights.StateDict;
import org.sa2vp.backbone.weights.keras.KerasConfig;

import java.util.Map;

/**
 * Keras {@code SwinTransformerBlock} → {@link SwinBlock}. Config: {@code image_shape [h, w]}, {@code n_head},
 * {@code window_size}, {@code shift_size}, {@code ratio} (MLP width = ⌊C·ratio⌋), {@code use_bias},
 * {@code scale} (null: {@code (C/H)^−½}, the only value supported), {@code activation} ("gelu", exact),
 * {@code normalize}; the training-time {@code dropout_rate}, {@code attention_dropout_rate} and
 * {@code droppath_rate} are not imported. Weights: {@code norm1/*}, {@code attn/qkv/kernel [C, 3C]} (columns q, k,
 * v), {@code attn/qkv/bias [3C]}, {@code attn/proj/*}, {@code attn/relative_position_bias_table [(2w−1)², H]},
 * {@code norm2/*}, {@code mlp/fc1/*}, {@code mlp/fc2/*}.
 */
public class KerasSwinTransformerBlock extends KerasSwinLayer {

    /** The Keras class name this adapter is registered under. */
    public static final String KERAS_CLASS = "SwinTransformerBlock";

    private final int[] grid;
    private final int heads;
    private final int window;
    private final int shift;
    private final double ratio;
    private final boolean useBias;
    private final Object scale;

    public KerasSwinTransformerBlock(Map<String, Object> layerConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        this(layerConfig, true);
    }

    public KerasSwinTransformerBlock(Map<String, Object> layerConfig, boolean enforceTrainingConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        super(layerConfig, enforceTrainingConfig);
        Map<String, Object> config = KerasConfig.inner(layerConfig);
        grid = imageShape(config);
        heads = KerasConfig.integer(layerName, config, "n_head", 0);
        window = square(config, "window_size");
        shift = KerasConfig.integer(layerName, config, "shift_size", 0);
        ratio = KerasConfig.number(config, "ratio", 4.0);
        useBias = KerasConfig.bool(config, "use_bias", true);
        scale = config.get("scale");
        Object activation = config.get("activation");
        if (activation != null && !"gelu".equals(activation)) {
            throw unsupported("activation '" + activation + "' is not supported, only 'gelu' (exact)");
        }
        requireLayerNorm(config);
    }

    @Override
    String kerasClass() {
        return KERAS_CLASS;
    }

    @Override
    BackboneLayer build(InputType input) throws UnsupportedKerasConfigurationException {
        requireGrid(input, grid);
        int width = (int) ((InputType.InputTypeRecurrent) input).getSize();
        if (scale instanceof Number s && heads > 0 && Math.abs(s.doubleValue() - Math.pow((double) width / heads,
                -0.5)) > 1e-6) {
            throw unsupported("scale " + s + " is not supported, only (width/heads)^-0.5");
        }
        return checked(() -> new SwinBlock.Builder().hiddenSize(width).numHeads(heads).mlpSize((int) (width * ratio))
                .grid(grid[0], grid[1]).windowSize(window).shiftSize(shift).layerNormEps(LAYER_NORM_EPS)
                .qkvBias(useBias).build());
    }

    @Override
    void assign(StateDict timm, Map<String, INDArray> table) {
        SwinBlock block = (SwinBlock) layer;
        SwinCheckpoint.assignBlock(timm, "", table, layerName, block.getHiddenSize(), block.getMlpSize(), window,
                heads);
    }
}
