package org.sa2vp.backbone.weights;

import org.sa2vp.backbone.vit.VitFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sa2vp.backbone.weights.OnnxBuilder.floatTensor;
import static org.sa2vp.backbone.weights.OnnxBuilder.graph;
import static org.sa2vp.backbone.weights.OnnxBuilder.longTensor;
import static org.sa2vp.backbone.weights.OnnxBuilder.model;
import static org.sa2vp.backbone.weights.OnnxBuilder.names;
import static org.sa2vp.backbone.weights.OnnxBuilder.node;
import static org.sa2vp.backbone.weights.OnnxBuilder.tensor;

/** The protobuf reader: element types and encodings, graph structure, and its one-line errors. */
class OnnxModelTest {

    private static final int FLOAT = 1;
    private static final int INT32 = 6;
    private static final int INT64 = 7;
    private static final int FLOAT16 = 10;
    private static final int DOUBLE = 11;
    private static final int BFLOAT16 = 16;

    @TempDir
    Path dir;

    @Test
    void decodesEveryElementTypeAndEncoding() {
        OnnxBuilder[] tensors = {
                floatTensor("f_raw", new long[] {2, 2}, 1f, -2f, 3.5f, 4f),
                tensor("f_packed", FLOAT, 3).packedFloats(4, 0.5f, 1.5f, -2.5f),
                tensor("f_unpacked", FLOAT, 2).fixed32(4, 7f).fixed32(4, -8f),
                tensor("d_raw", DOUBLE, 2).bytes(9, le(8, 1.25, -1e-3)),
                tensor("d_packed", DOUBLE, 2).bytes(10, le(8, 2.5, 3.0)),
                tensor("d_unpacked", DOUBLE, 1).fixed64(10, -6.0),
                // 1.0, -2.0, 65504 (largest half), 2^-24 (smallest subnormal), -0.0
                tensor("h_raw", FLOAT16, 5).bytes(9, shorts(0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8000)),
                tensor("h_int32", FLOAT16, 2).packedVarints(5, 0x3800, 0xBC00),
                tensor("bf_raw", BFLOAT16, 2).bytes(9, shorts(0x3F80, 0xC040)),
                tensor("bf_int32", BFLOAT16, 1).packedVarints(5, 0x4120),
                longTensor("i64_raw", new long[] {3}, 1, -1, 1L << 40),
                tensor("i64_packed", INT64, 2).packedVarints(7, 17, -5),
                tensor("i32_raw", INT32, 2).bytes(9, ints(7, -7)),
                tensor("i32_unpacked", INT32, 2).varint(5, 9).varint(5, -9),
                floatTensor("scalar", new long[0], 0.125f),
        };
        OnnxModel m = OnnxModel.parse(ByteBuffer.wrap(model(17, graph(new OnnxBuilder[0], tensors))), "types.onnx");
        Map<String, OnnxTensor> init = m.graph().initializers();

        assertValues(init.get("f_raw"), new long[] {2, 2}, 1f, -2f, 3.5f, 4f);
        assertValues(init.get("f_packed"), new long[] {3}, 0.5f, 1.5f, -2.5f);
        assertValues(init.get("f_unpacked"), new long[] {2}, 7f, -8f);
        assertValues(init.get("d_raw"), new long[] {2}, 1.25f, (float) -1e-3);
        assertValues(init.get("d_packed"), new long[] {2}, 2.5f, 3f);
        assertValues(init.get("d_unpacked"), new long[] {1}, -6f);
        assertValues(init.get("h_raw"), new long[] {5}, 1f, -2f, 65504f, 0x1p-24f, -0f);
        assertValues(init.get("h_int32"), new long[] {2}, 0.5f, -1f);
        assertValues(init.get("bf_raw"), new long[] {2}, 1f, -3f);
        assertValues(init.get("bf_int32"), new long[] {1}, 10f);
        assertValues(init.get("i64_raw"), new long[] {3}, 1f, -1f, (float) (1L << 40));
        assertValues(init.get("i32_raw"), new long[] {2}, 7f, -7f);
        assertArrayEquals(new long[] {1, -1, 1L << 40}, init.get("i64_raw").toLongArray());
        assertArrayEquals(new long[] {17, -5}, init.get("i64_packed").toLongArray());
        assertArrayEquals(new long[] {7, -7}, init.get("i32_raw").toLongArray());
        assertArrayEquals(new long[] {9, -9}, init.get("i32_unpacked").toLongArray());

        INDArray scalar = init.get("scalar").toFloatArray();
        assertEquals(0, scalar.rank());
        assertEquals(0.125f, scalar.getFloat(0));
        assertEquals(0.125, init.get("scalar").singleValue().orElseThrow());
        assertEquals(OnnxTensor.ElementType.FLOAT16, init.get("h_raw").elementType());
    }

    @Test
    void halfPrecisionEdgeCases() {
        assertEquals(Float.POSITIVE_INFINITY, OnnxTensor.halfToFloat(0x7C00));
        assertEquals(Float.NEGATIVE_INFINITY, OnnxTensor.halfToFloat(0xFC00));
        assertTrue(Float.isNaN(OnnxTensor.halfToFloat(0x7E00)));
        assertEquals(6.1035156e-5f, OnnxTensor.halfToFloat(0x0400));
        assertEquals(0x3FFp-24f, OnnxTensor.halfToFloat(0x03FF));
    }

    @Test
    void readsModelGraphNodesAttributesAndConstants() {
        OnnxBuilder[] nodes = {
                node("/c1", "Constant", names(), names("c_tensor"),
                        OnnxBuilder.tensorAttribute("value", longTensor("", new long[] {2}, 2, 16))),
                node("/c2", "Constant", names(), names("c_float"), new OnnxBuilder().string(1, "value_float")
                        .fixed32(2, 4f).varint(20, 1)),
                node("/c3", "Constant", names(), names("c_ints"), new OnnxBuilder().string(1, "value_ints")
                        .packedVarints(8, 3, -1).varint(20, 7)),
                node("/n", "Gemm", names("input", "w", ""), names("output"), OnnxBuilder.intAttribute("transB", 1),
                        OnnxBuilder.floatAttribute("alpha", 0.5f),
                        new OnnxBuilder().string(1, "floats").fixed32(7, 1f).fixed32(7, 2f).varint(20, 6),
                        new OnnxBuilder().string(1, "s").string(4, "text").varint(20, 3)),
        };
        OnnxModel m = OnnxModel.parse(ByteBuffer.wrap(model(13, graph(nodes,
                floatTensor("w", new long[] {1, 1}, 1f)))), "graph.onnx");

        assertEquals("graph.onnx", m.source());
        assertEquals(8, m.irVersion());
        assertEquals("test", m.producerName());
        assertEquals(13, m.opsetVersion().orElseThrow());
        assertEquals("test-graph", m.graph().name());
        assertEquals(Arrays.asList("input"), m.graph().inputs());
        assertEquals(Arrays.asList("output"), m.graph().outputs());
        OnnxModel.Node gemm = m.graph().nodes().get(3);
        assertEquals("Gemm", gemm.opType());
        assertEquals(Arrays.asList("input", "w", ""), gemm.inputs());
        assertEquals(1, gemm.intAttribute("transB", 0));
        assertEquals(0, gemm.intAttribute("transA", 0));
        assertEquals(0.5f, gemm.floatAttribute("alpha", 1f));
        assertArrayEquals(new float[] {1f, 2f}, gemm.attribute("floats").orElseThrow().floats());
        assertEquals("text", new String(gemm.attribute("s").orElseThrow().s()));

        Map<String, OnnxTensor> constants = m.constants();
        assertArrayEquals(new long[] {2, 16}, constants.get("c_tensor").toLongArray());
        assertEquals(4.0, constants.get("c_float").singleValue().orElseThrow());
        assertArrayEquals(new long[] {3, -1}, constants.get("c_ints").toLongArray());
        assertTrue(constants.containsKey("w"));
    }

    /**
     * An input's declared shape: a symbolic dimension ({@code dim_param}, torch's dynamic batch) is -1, a dimension
     * without value or name too; an input that declares no type has no entry.
     */
    @Test
    void inputShapesAreReadFromTheValueInfo() {
        assertArrayEquals(new long[]{-1, 3, 32, 32}, OnnxModel.read(VitFixtures.file("torchvision_opset13.onnx"))
                .graph().inputShapes().get("input"));
        OnnxBuilder dims = new OnnxBuilder().message(1, new OnnxBuilder().string(2, "batch"))
                .message(1, new OnnxBuilder().varint(1, 3)).message(1, new OnnxBuilder());
        OnnxBuilder typed = new OnnxBuilder().string(1, "image").message(2, new OnnxBuilder()
                .message(1, new OnnxBuilder().varint(1, 1).message(2, dims)));
        OnnxBuilder g = graph(new OnnxBuilder[0]).message(11, typed);
        OnnxModel m = OnnxModel.parse(ByteBuffer.wrap(model(17, g)), "shapes.onnx");
        assertEquals(Arrays.asList("input", "image"), m.graph().inputs());
        assertArrayEquals(new long[]{-1, 3, -1}, m.graph().inputShapes().get("image"));
        assertFalse(m.graph().inputShapes().containsKey("input"));
    }

    @Test
    void truncatedFileNamesFileAndOffset() throws IOException {
        byte[] whole = Files.readAllBytes(VitFixtures.file("torchvision_opset13.onnx"));
        Path cut = write("model.onnx", Arrays.copyOf(whole, whole.length * 6 / 10));
        String message = assertThrows(CheckpointException.class, () -> OnnxModel.read(cut)).getMessage();
        assertOneLine(message, "model.onnx: truncated protobuf at byte ");
        assertTrue(message.endsWith("(file is " + whole.length * 6 / 10 + " bytes); expected a complete ONNX "
                + "ModelProto"), message);
    }

    @Test
    void nonOnnxFilesAreRejected() throws IOException {
        byte[] random = new byte[5000];
        new Random(7).nextBytes(random);
        random[0] = (byte) 0xFF;
        Map<String, byte[]> files = Map.of(
                "notes.onnx", "this is a text file, not a model\n".getBytes(),
                "random.onnx", random,
                "weights.onnx", Files.readAllBytes(VitFixtures.file("torchvision.npz")),
                "hf.onnx", Files.readAllBytes(VitFixtures.file("hf.safetensors")),
                "empty.onnx", new byte[0]);
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            Path path = write(f.getKey(), f.getValue());
            String message = assertThrows(CheckpointException.class, () -> OnnxModel.read(path)).getMessage();
            assertOneLine(message, f.getKey() + ": not an ONNX model: ");
            assertTrue(message.endsWith("expected an ONNX ModelProto (.onnx file)"), message);
        }
    }

    @Test
    void modelWithoutGraphIsRejected() {
        byte[] noGraph = new OnnxBuilder().varint(1, 8).string(2, "x").toByteArray();
        String message = assertThrows(CheckpointException.class,
                () -> OnnxModel.parse(ByteBuffer.wrap(noGraph), "nograph.onnx")).getMessage();
        assertOneLine(message, "nograph.onnx: not an ONNX model: no graph");
    }

    @Test
    void externalDataIsRejected() throws IOException {
        OnnxBuilder external = tensor("encoder.weight", FLOAT, 4, 4)
                .message(13, new OnnxBuilder().string(1, "location").string(2, "model.onnx.data"))
                .message(13, new OnnxBuilder().string(1, "offset").string(2, "0"))
                .varint(14, 1);
        Path path = write("big.onnx", model(17, graph(new OnnxBuilder[0], external)));
        String message = assertThrows(CheckpointException.class, () -> OnnxModel.read(path)).getMessage();
        assertOneLine(message, "big.onnx: initializer 'encoder.weight' keeps its data in external file "
                + "'model.onnx.data'");
    }

    @Test
    void dataThatDoesNotMatchTheShapeIsReported() {
        OnnxBuilder short1 = floatTensor("w", new long[] {2, 3}, 1f, 2f);
        OnnxModel m = OnnxModel.parse(ByteBuffer.wrap(model(17, graph(new OnnxBuilder[0], short1))), "bad.onnx");
        String message = assertThrows(CheckpointException.class,
                () -> m.graph().initializers().get("w").toFloatArray()).getMessage();
        assertOneLine(message, "bad.onnx: tensor 'w' FLOAT[2, 3] stores 2 values, expected 6");
    }

    @Test
    void unsupportedElementTypeIsReported() {
        OnnxBuilder strings = tensor("labels", 8, 1).string(6, "cat");
        OnnxModel m = OnnxModel.parse(ByteBuffer.wrap(model(17, graph(new OnnxBuilder[0], strings))), "s.onnx");
        String message = assertThrows(CheckpointException.class,
                () -> m.graph().initializers().get("labels").toFloatArray()).getMessage();
        assertOneLine(message, "s.onnx: tensor 'labels' has unsupported element type STRING");
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path path = dir.resolve(name);
        Files.write(path, bytes);
        return path;
    }

    static void assertOneLine(String message, String prefix) {
        assertTrue(message.startsWith(prefix), message);
        assertFalse(message.contains("\n"), message);
    }

    private static void assertValues(OnnxTensor t, long[] shape, float... values) {
        INDArray a = t.toFloatArray();
        assertEquals(DataType.FLOAT, a.dataType());
        assertEquals('c', a.ordering());
        assertArrayEquals(shape, a.shape(), t.name());
        assertArrayEquals(values, a.data().asFloat(), t.name());
    }

    private static byte[] le(int width, double... values) {
        ByteBuffer b = ByteBuffer.allocate(width * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : values) {
            b.putDouble(v);
        }
        return b.array();
    }

    private static byte[] shorts(int... values) {
        ByteBuffer b = ByteBuffer.allocate(2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putShort((short) v);
        }
        return b.array();
    }

    private static byte[] ints(int... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putInt(v);
        }
        return b.array();
    }
}
