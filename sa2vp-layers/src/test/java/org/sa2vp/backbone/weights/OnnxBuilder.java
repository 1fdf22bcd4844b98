package org.sa2vp.backbone.weights;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Test-only protobuf writer for hand-made ONNX models, so that encodings the PyTorch fixtures never use (typed
 * data fields, unpacked repeated fields, 16-bit floats, external data, bias-free Linear layers) can be tested.
 * Field numbers are those of onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto).
 */
final class OnnxBuilder {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    OnnxBuilder varint(int field, long value) {
        rawVarint((long) field << 3);
        rawVarint(value);
        return this;
    }

    OnnxBuilder fixed32(int field, float value) {
        rawVarint((long) field << 3 | 5);
        byte[] b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(value).array();
        out.writeBytes(b);
        return this;
    }

    OnnxBuilder fixed64(int field, double value) {
        rawVarint((long) field << 3 | 1);
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(value).array());
        return this;
    }

    OnnxBuilder bytes(int field, byte[] value) {
        rawVarint((long) field << 3 | 2);
        rawVarint(value.length);
        out.writeBytes(value);
        return this;
    }

    OnnxBuilder string(int field, String value) {
        return bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    OnnxBuilder message(int field, OnnxBuilder value) {
        return bytes(field, value.toByteArray());
    }

    OnnxBuilder packedVarints(int field, long... values) {
        OnnxBuilder packed = new OnnxBuilder();
        for (long v : values) {
            packed.rawVarint(v);
        }
        return bytes(field, packed.toByteArray());
    }

    OnnxBuilder packedFloats(int field, float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return bytes(field, b.array());
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }

    private void rawVarint(long value) {
        while ((value & ~0x7FL) != 0) {
            out.write((int) (value & 0x7F) | 0x80);
            value >>>= 7;
        }
        out.write((int) value);
    }

    // ---- ONNX messages -----------------------------------------------------------------------------------------

    /** A ModelProto: ir_version 8, producer "test", one opset import, the given graph. */
    static byte[] model(long opset, OnnxBuilder graph) {
        return new OnnxBuilder().varint(1, 8).string(2, "test").string(3, "0.1").message(7, graph)
                .message(8, new OnnxBuilder().string(1, "").varint(2, opset)).toByteArray();
    }

    /** A GraphProto with the given nodes and initializers (each already a NodeProto / TensorProto builder). */
    static OnnxBuilder graph(OnnxBuilder[] nodes, OnnxBuilder... initializers) {
        OnnxBuilder g = new OnnxBuilder();
        for (OnnxBuilder n : nodes) {
            g.message(1, n);
        }
        g.string(2, "test-graph");
        for (OnnxBuilder t : initializers) {
            g.message(5, t);
        }
        g.message(11, new OnnxBuilder().string(1, "input"));
        g.message(12, new OnnxBuilder().string(1, "output"));
        return g;
    }

    /** A NodeProto; attributes are AttributeProto builders. */
    static OnnxBuilder node(String name, String opType, String[] inputs, String[] outputs, OnnxBuilder... attributes) {
        OnnxBuilder n = new OnnxBuilder();
        for (String i : inputs) {
            n.string(1, i);
        }
        for (String o : outputs) {
            n.string(2, o);
        }
        n.string(3, name).string(4, opType);
        for (OnnxBuilder a : attributes) {
            n.message(5, a);
        }
        return n;
    }

    static OnnxBuilder intAttribute(String name, long value) {
        return new OnnxBuilder().string(1, name).varint(3, value).varint(20, 2);
    }

    static OnnxBuilder floatAttribute(String name, float value) {
        return new OnnxBuilder().string(1, name).fixed32(2, value).varint(20, 1);
    }

    static OnnxBuilder tensorAttribute(String name, OnnxBuilder tensor) {
        return new OnnxBuilder().string(1, name).message(5, tensor).varint(20, 4);
    }

    /** A TensorProto header (dims packed, data_type, name); add the data field(s) to the result. */
    static OnnxBuilder tensor(String name, int dataType, long... dims) {
        OnnxBuilder t = new OnnxBuilder();
        if (dims.length > 0) {
            t.packedVarints(1, dims);
        }
        return t.varint(2, dataType).string(8, name);
    }

    /** A FLOAT tensor with little-endian raw_data. */
    static OnnxBuilder floatTensor(String name, long[] dims, float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return tensor(name, 1, dims).bytes(9, b.array());
    }

    /** An INT64 tensor with little-endian raw_data. */
    static OnnxBuilder longTensor(String name, long[] dims, long... values) {
        ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        return tensor(name, 7, dims).bytes(9, b.array());
    }

    static String[] names(String... names) {
        return names;
    }
}
