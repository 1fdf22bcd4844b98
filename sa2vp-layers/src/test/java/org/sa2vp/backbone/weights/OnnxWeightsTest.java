package org.sa2vp.backbone.weights;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.ByteBuffer;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sa2vp.backbone.weights.OnnxBuilder.floatTensor;
import static org.sa2vp.backbone.weights.OnnxBuilder.graph;
import static org.sa2vp.backbone.weights.OnnxBuilder.intAttribute;
import static org.sa2vp.backbone.weights.OnnxBuilder.longTensor;
import static org.sa2vp.backbone.weights.OnnxBuilder.model;
import static org.sa2vp.backbone.weights.OnnxBuilder.names;
import static org.sa2vp.backbone.weights.OnnxBuilder.node;

/**
 * Name recovery on hand-made graphs, for the patterns the PyTorch fixtures do not contain: Gemm with an
 * anonymous weight (transB 0 and 1), bias-free Linear layers named from their scope, constants that are dropped,
 * and anonymous initializers that cannot be named.
 */
class OnnxWeightsTest {

    /** W as torch stores it: [out=3, in=2]. */
    private static final float[] W_OUT_IN = {1, 2, 3, 4, 5, 6};
    /** The same W transposed, [in=2, out=3], as constant folding stores it for MatMul. */
    private static final float[] W_IN_OUT = {1, 3, 5, 2, 4, 6};

    @Test
    void gemmWithAnonymousWeightIsNamedAfterItsBias() {
        OnnxBuilder[] nodes = {
                node("/fc/Gemm", "Gemm", names("input", "onnx::Gemm_1", "fc.bias"), names("h")),
                node("/head/Gemm", "Gemm", names("h", "onnx::Gemm_2", "head.bias"), names("output"),
                        intAttribute("transB", 1)),
        };
        StateDict sd = weights(nodes,
                floatTensor("onnx::Gemm_1", new long[] {2, 3}, W_IN_OUT),
                floatTensor("fc.bias", new long[] {3}, 0, 0, 0),
                floatTensor("onnx::Gemm_2", new long[] {3, 2}, W_OUT_IN),
                floatTensor("head.bias", new long[] {3}, 0, 0, 0)).stateDict();

        assertEquals(List.of("fc.weight", "fc.bias", "head.weight", "head.bias"), List.copyOf(sd.keys()));
        assertMatrix(sd.get("fc.weight", 3, 2));
        assertMatrix(sd.get("head.weight", 3, 2));
    }

    @Test
    void biasFreeLinearIsNamedFromItsModuleScope() {
        OnnxBuilder[] nodes = {
                node("/blocks/blocks.0/attn/qkv/MatMul", "MatMul", names("input", "onnx::MatMul_7"), names("q")),
                node("/blocks/blocks.0/attn/proj/Gemm", "Gemm", names("q", "onnx::Gemm_8"), names("output"),
                        intAttribute("transB", 1)),
        };
        OnnxWeights w = weights(nodes,
                floatTensor("onnx::MatMul_7", new long[] {2, 3}, W_IN_OUT),
                floatTensor("onnx::Gemm_8", new long[] {3, 2}, W_OUT_IN));

        assertEquals(List.of("blocks.0.attn.qkv.weight", "blocks.0.attn.proj.weight"),
                List.copyOf(w.stateDict().keys()));
        assertMatrix(w.stateDict().get("blocks.0.attn.qkv.weight", 3, 2));
        assertMatrix(w.stateDict().get("blocks.0.attn.proj.weight", 3, 2));
        assertTrue(w.origins().get("blocks.0.attn.qkv.weight").contains("bias-free MatMul"));
    }

    /**
     * torch merges parameters with equal values into one initializer and recreates the others as
     * {@code Identity(kept) -> name}, as in a freshly initialised torchvision vit_b_16; an anonymous weight shared by
     * two Linear layers must give both names.
     */
    @Test
    void parametersMergedByTheExporterAreRecovered() {
        OnnxBuilder[] nodes = {
                node("Identity_0", "Identity", names("a.norm.weight"), names("b.norm.weight")),
                node("Identity_1", "Identity", names("a.fc.bias"), names("b.fc.bias")),
                node("/a/fc/MatMul", "MatMul", names("input", "onnx::MatMul_9"), names("m1")),
                node("/a/fc/Add", "Add", names("a.fc.bias", "m1"), names("h")),
                node("/b/fc/MatMul", "MatMul", names("h", "onnx::MatMul_9"), names("m2")),
                node("/b/fc/Add", "Add", names("m2", "b.fc.bias"), names("g")),
                node("/b/norm/Mul", "Mul", names("g", "b.norm.weight"), names("output")),
        };
        OnnxWeights w = weights(nodes,
                floatTensor("a.norm.weight", new long[] {3}, 1, 1, 1),
                floatTensor("a.fc.bias", new long[] {3}, 0, 0, 0),
                floatTensor("onnx::MatMul_9", new long[] {2, 3}, W_IN_OUT));
        StateDict sd = w.stateDict();

        assertEquals(List.of("a.norm.weight", "a.fc.weight", "a.fc.bias", "b.norm.weight", "b.fc.weight",
                "b.fc.bias"), List.copyOf(sd.keys()));
        assertMatrix(sd.get("a.fc.weight", 3, 2));
        assertMatrix(sd.get("b.fc.weight", 3, 2));
        assertArrayEquals(new float[] {1, 1, 1}, sd.get("b.norm.weight", 3).data().asFloat());
        assertTrue(w.origins().get("b.fc.bias").contains("merged"), w.origins().get("b.fc.bias"));
    }

    @Test
    void pureConstantsAreDropped() {
        OnnxBuilder[] nodes = {
                node("/Reshape", "Reshape", names("input", "onnx::Reshape_3"), names("r")),
                node("/Div", "Div", names("r", "onnx::Div_4"), names("output")),
        };
        StateDict sd = weights(nodes,
                longTensor("onnx::Reshape_3", new long[] {4}, -1, 17, 2, 16),
                floatTensor("onnx::Div_4", new long[0], 4f),
                floatTensor("cls_token", new long[] {1, 1, 2}, 0.5f, -0.5f)).stateDict();

        assertEquals(List.of("cls_token"), List.copyOf(sd.keys()));
        assertArrayEquals(new long[] {1, 1, 2}, sd.get("cls_token").shape());
    }

    @Test
    void anonymousInitializersThatCannotBeNamedAreListed() {
        OnnxBuilder[] nodes = {
                // a weight inside attention's own scope (not a Linear-only scope): no safe name
                node("/attn/MatMul", "MatMul", names("input", "onnx::MatMul_5"), names("a")),
                node("/attn/Softmax", "Softmax", names("a"), names("s")),
                // a folded bias-like tensor added to a computed value
                node("/Add", "Add", names("s", "onnx::Add_6"), names("output")),
        };
        String message = assertThrows(CheckpointException.class, () -> weights(nodes,
                floatTensor("onnx::MatMul_5", new long[] {2, 3}, W_IN_OUT),
                floatTensor("onnx::Add_6", new long[] {3}, 1, 2, 3))).getMessage();

        assertTrue(message.startsWith("synthetic.onnx: cannot recover PyTorch names for 2 anonymous initializer(s): "
                + "onnx::MatMul_5 [2, 3] (input 1 of MatMul '/attn/MatMul'), onnx::Add_6 [3] (input 1 of Add "
                + "'/Add')"), message);
        assertFalse(message.contains("\n"));
    }

    @Test
    void parameterNamesAreToldFromExporterNames() {
        assertTrue(OnnxWeights.isParameterName("blocks.0.norm1.weight"));
        assertTrue(OnnxWeights.isParameterName("class_token"));
        assertFalse(OnnxWeights.isParameterName("onnx::MatMul_367"));
        assertFalse(OnnxWeights.isParameterName("/encoder/Constant_output_0"));
        assertFalse(OnnxWeights.isParameterName("1234"));
    }

    private static OnnxWeights weights(OnnxBuilder[] nodes, OnnxBuilder... initializers) {
        return OnnxWeights.of(OnnxModel.parse(ByteBuffer.wrap(model(17, graph(nodes, initializers))),
                "synthetic.onnx"));
    }

    private static void assertMatrix(INDArray w) {
        assertEquals('c', w.ordering());
        assertArrayEquals(W_OUT_IN, w.dup('c').data().asFloat());
    }
}
