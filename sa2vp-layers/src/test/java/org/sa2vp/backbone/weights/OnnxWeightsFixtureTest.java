package org.sa2vp.backbone.weights;

import org.sa2vp.backbone.vit.VitFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each ONNX export in the ViT fixtures must give back exactly the state dict that the same PyTorch script wrote
 * under the same naming: same keys, same shapes, bitwise equal values, and the head count and opset.
 */
class OnnxWeightsFixtureTest {

    static Stream<Arguments> exports() {
        return Stream.of(
                Arguments.of("torchvision_opset13.onnx", "torchvision.npz", 13),
                Arguments.of("torchvision_opset17.onnx", "torchvision.npz", 17),
                Arguments.of("timm_opset14.onnx", "timm.npz", 14),
                Arguments.of("hf_opset17.onnx", "hf.safetensors", 17));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("exports")
    void recoversTheExportersStateDict(String onnx, String reference, int opset) {
        OnnxWeights weights = OnnxWeights.read(VitFixtures.file(onnx));
        Map<String, INDArray> want = reference.endsWith(".npz") ? VitFixtures.npz(reference)
                : VitFixtures.safetensors(reference);
        StateDict got = weights.stateDict();

        assertEquals(onnx, got.source());
        assertEquals(new TreeSet<>(want.keySet()), new TreeSet<>(got.keys()), onnx + " key set");
        for (Map.Entry<String, INDArray> e : want.entrySet()) {
            INDArray actual = got.get(e.getKey());
            assertEquals(DataType.FLOAT, actual.dataType(), e.getKey());
            assertEquals('c', actual.ordering(), e.getKey());
            assertArrayEquals(e.getValue().shape(), actual.shape(), e.getKey() + " shape");
            assertArrayEquals(bits(e.getValue()), bits(actual), e.getKey() + " values (bitwise)");
        }
        assertEquals(VitFixtures.HEADS, weights.numHeads().orElse(-1), "heads");
        assertEquals(Arrays.asList(VitFixtures.HEADS, VitFixtures.HEADS), weights.headsPerAttention());
        assertEquals(opset, weights.opsetVersion().orElse(-1), "opset");
    }

    /** Keys follow the file order with each recovered weight just before its bias, like a torch state dict. */
    @Test
    void keysComeInStateDictOrder() {
        StateDict tv = OnnxWeights.read(VitFixtures.file("torchvision_opset17.onnx")).stateDict();
        assertEquals(VitFixtures.npzKeyOrder("torchvision.npz"), tv.keys().stream().toList());
    }

    /**
     * The module-scope naming used for bias-free Linear layers, checked on every named parameter that a node of
     * a real export consumes directly (Conv, LayerNormalization, and MatMul/Gemm/Add in a Linear-only scope): the
     * node's scope must be the parameter's module. torchvision's attention output projection, a Gemm in the
     * scope of the whole nn.MultiheadAttention, must not count as a Linear scope.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("exports")
    void scopeNamesMatchParameterModules(String onnx) {
        OnnxModel model = OnnxModel.read(VitFixtures.file(onnx));
        int checked = 0;
        for (OnnxModel.Node node : model.graph().nodes()) {
            if (!(node.opType().equals("Conv") || node.opType().equals("LayerNormalization")
                    || OnnxWeights.isLinearModuleScope(model.graph().nodes(), node))) {
                continue;
            }
            for (String input : node.inputs()) {
                if (model.graph().initializers().containsKey(input) && OnnxWeights.isParameterName(input)) {
                    String module = input.substring(0, input.lastIndexOf('.'));
                    assertEquals(module, OnnxWeights.moduleNameFromScope(node.name()), node.name());
                    checked++;
                }
            }
        }
        assertTrue(checked >= 8, "checked " + checked);
        OnnxModel.Node outProj = model.graph().nodes().stream()
                .filter(n -> n.name().endsWith("self_attention/Gemm")).findFirst().orElse(null);
        if (outProj != null) {
            assertFalse(OnnxWeights.isLinearModuleScope(model.graph().nodes(), outProj));
        }
    }

    @Test
    void moduleNamesFromScopes() {
        assertEquals("blocks.0.attn.qkv", OnnxWeights.moduleNameFromScope("/blocks/blocks.0/attn/qkv/MatMul"));
        assertEquals("encoder.layers.encoder_layer_1.mlp.0",
                OnnxWeights.moduleNameFromScope("/encoder/layers/encoder_layer_1/mlp/mlp.0/MatMul"));
        assertEquals("vit.encoder.layer.0.attention.attention.query",
                OnnxWeights.moduleNameFromScope("/vit/encoder/layer.0/attention/attention/query/MatMul"));
        assertEquals("features.0.1", OnnxWeights.moduleNameFromScope("/features/features.0/features.0.1/Conv"));
        assertEquals("head", OnnxWeights.moduleNameFromScope("/head/Gemm"));
        assertEquals(null, OnnxWeights.moduleNameFromScope("MatMul_12"));
        assertEquals(null, OnnxWeights.moduleNameFromScope("/MatMul"));
    }

    private static int[] bits(INDArray a) {
        float[] values = a.castTo(DataType.FLOAT).dup('c').data().asFloat();
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }
}
