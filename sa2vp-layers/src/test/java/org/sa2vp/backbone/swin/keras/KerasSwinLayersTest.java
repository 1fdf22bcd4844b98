package org.sa2vp.backbone.swin.keras;

import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.backbone.swin.SwinBlock;
import org.sa2vp.backbone.weights.keras.KerasFiles;

import java.lang.reflect.InvocationTargetException;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Keras Swin adapters' one-line refusals of settings the Swin family's layers do not have, and weight checks. */
class KerasSwinLayersTest {

    /** A SwinTransformerBlock config as DL4J's KerasModel hands it to a layer, with {@code changes} applied. */
    private static Map<String, Object> blockConfig(Map<String, Object> changes) {
        Map<String, Object> config = new HashMap<>(Map.of("name", "blk", "image_shape", List.of(8, 8), "n_head", 2,
                "window_size", 4, "shift_size", 2, "ratio", 2.0, "use_bias", true, "activation", "gelu",
                "normalize", "LayerNormalization", "trainable", true));
        config.putAll(changes);
        return new HashMap<>(Map.of("class_name", KerasSwinTransformerBlock.KERAS_CLASS, "name", "blk", "config",
                config, "inbound_nodes", List.of(List.of(List.of("prev", 0, 0, Map.of()))), "keras_version", 2));
    }

    @Test
    void aBlockBecomesASwinBlockOfTheInputsWidth() throws Exception {
        KerasSwinTransformerBlock block = new KerasSwinTransformerBlock(blockConfig(Map.of()));
        InputType out = block.getOutputType(InputType.recurrent(16, 64, RNNFormat.NWC));
        assertEquals(InputType.recurrent(16, 64, RNNFormat.NWC), out);
        SwinBlock layer = (SwinBlock) block.getLayer();
        assertEquals(List.of(16, 2, 32, 8, 8, 4, 2), List.of(layer.getHiddenSize(), layer.getNumHeads(),
                layer.getMlpSize(), layer.getGridHeight(), layer.getGridWidth(), layer.getWindowSize(),
                layer.getShiftSize()));
        assertEquals(17, block.getNumParams());
    }

    /** The message a user sees: DL4J's wrapping and appended links removed ({@link KerasFiles#oneLine}). */
    private static String refusal(Executable construct) {
        return KerasFiles.oneLine(assertThrows(Exception.class, construct));
    }

    @Test
    void settingsTheSwinLayersDoNotHaveAreRefusedInOneLine() throws Exception {
        assertEquals("SwinTransformerBlock 'blk': activation 'relu' is not supported, only 'gelu' (exact)",
                refusal(() -> new KerasSwinTransformerBlock(blockConfig(Map.of("activation", "relu")))));
        assertEquals("SwinTransformerBlock 'blk': normalize 'BatchNormalization' is not supported, only "
                + "LayerNormalization", refusal(() -> new KerasSwinTransformerBlock(blockConfig(Map.of("normalize",
                "BatchNormalization")))));
        assertEquals("SwinTransformerBlock 'blk': window_size must be an integer or a square [n, n], got [4, 2]",
                refusal(() -> new KerasSwinTransformerBlock(blockConfig(Map.of("window_size", List.of(4, 2))))));
        KerasSwinTransformerBlock scaled = new KerasSwinTransformerBlock(blockConfig(Map.of("scale", 0.5)));
        assertEquals("SwinTransformerBlock 'blk': scale 0.5 is not supported, only (width/heads)^-0.5",
                refusal(() -> scaled.getOutputType(InputType.recurrent(16, 64, RNNFormat.NWC))));
        KerasSwinTransformerBlock block = new KerasSwinTransformerBlock(blockConfig(Map.of()));
        assertEquals("SwinTransformerBlock 'blk': image_shape 8x8 does not match the input's 49 tokens",
                refusal(() -> block.getOutputType(InputType.recurrent(16, 49, RNNFormat.NWC))));
    }

    @Test
    void aRefusalInsideDl4jsLayerConstructionKeepsTheLayersMessage() {
        // DL4J 1.0.0-M2.1 wraps a custom layer's constructor failure as RuntimeException("...", reflective cause)
        Exception refused = assertThrows(Exception.class, () -> new KerasSwinTransformerBlock(blockConfig(
                Map.of("activation", "relu"))));
        RuntimeException wrapped = new RuntimeException("Failed to construct custom layer SwinTransformerBlock",
                new InvocationTargetException(refused));
        assertEquals("SwinTransformerBlock 'blk': activation 'relu' is not supported, only 'gelu' (exact)",
                KerasFiles.oneLine(wrapped));
    }

    @Test
    void weightsOfTheWrongShapeNameTheLayerAndTheWeight() throws Exception {
        KerasSwinTransformerBlock block = new KerasSwinTransformerBlock(blockConfig(Map.of()));
        block.getOutputType(InputType.recurrent(16, 64, RNNFormat.NWC));
        Map<String, INDArray> weights = new HashMap<>();
        for (String norm : List.of("norm1", "norm2")) {
            weights.put(norm + "/gamma", Nd4j.ones(16));
            weights.put(norm + "/beta", Nd4j.zeros(16));
        }
        weights.put("attn/qkv/kernel", Nd4j.zeros(16, 48));
        weights.put("attn/qkv/bias", Nd4j.zeros(48));
        weights.put("attn/proj/kernel", Nd4j.zeros(16, 16));
        weights.put("attn/proj/bias", Nd4j.zeros(16));
        weights.put("mlp/fc1/kernel", Nd4j.zeros(16, 32));
        weights.put("mlp/fc1/bias", Nd4j.zeros(32));
        weights.put("mlp/fc2/kernel", Nd4j.zeros(32, 16));
        weights.put("mlp/fc2/bias", Nd4j.zeros(16));
        weights.put("attn/relative_position_bias_table", Nd4j.linspace(1, 98, 98).reshape(49, 2));
        weights.put("attn/relative_position_index", Nd4j.zeros(16, 16));
        block.setWeights(weights);
        assertArrayEquals(new long[]{49, 2}, block.getWeights().get(SwinBlock.RELATIVE_POSITION_BIAS).shape());
        assertEquals(98.0, block.getWeights().get(SwinBlock.RELATIVE_POSITION_BIAS).getDouble(48, 1));

        weights.put("attn/relative_position_bias_table", Nd4j.zeros(25, 2));
        String message = KerasFiles.oneLine(assertThrows(InvalidKerasConfigurationException.class,
                () -> block.setWeights(weights)));
        String expected = "SwinTransformerBlock 'blk': its weights in timm names: key "
                + "'attn.relative_position_bias_table' has shape [25, 2], expected [49, 2] (Keras weights found: [";
        assertEquals(expected, message.substring(0, Math.min(message.length(), expected.length())));
        assertTrue(message.endsWith("])") && message.contains("attn/relative_position_bias_table"), message);
        assertEquals(-1, message.indexOf('\n'), message);
    }
}
