package org.sa2vp.backbone.weights;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.OptionalDouble;

/**
 * One ONNX {@code TensorProto} (an initializer, a {@code Constant} node's value or a tensor attribute).
 *
 * <p>The data stays where the parser found it, normally a zero-copy view of {@code raw_data} in the memory-mapped
 * file, and is decoded only when asked for: {@link #toFloatArray()} writes it straight into the native buffer of a
 * new float32 'c'-order {@link INDArray} (one copy per byte), {@link #toLongArray()} gives integer constants such
 * as {@code Reshape} shapes. Supported element types: FLOAT, DOUBLE, FLOAT16, BFLOAT16, INT64 and INT32, stored
 * either as {@code raw_data} (little-endian) or in the typed fields ({@code float_data}, {@code double_data},
 * {@code int64_data}, and {@code int32_data}, which also carries the 16-bit float bit patterns).
 */
public final class OnnxTensor {

    /** ONNX {@code TensorProto.DataType} codes, with the size of one element in {@code raw_data}. */
    public enum ElementType {
        UNDEFINED(0, 0), FLOAT(1, 4), UINT8(2, 1), INT8(3, 1), UINT16(4, 2), INT16(5, 2), INT32(6, 4), INT64(7, 8),
        STRING(8, 0), BOOL(9, 1), FLOAT16(10, 2), DOUBLE(11, 8), UINT32(12, 4), UINT64(13, 8), COMPLEX64(14, 8),
        COMPLEX128(15, 16), BFLOAT16(16, 2);

        private final int code;
        private final int byteSize;

        ElementType(int code, int byteSize) {
            this.code = code;
            this.byteSize = byteSize;
        }

        public int code() {
            return code;
        }

        /** The element type for an ONNX code, or {@code null} for a code this reader does not know. */
        static ElementType ofCode(long code) {
            for (ElementType t : values()) {
                if (t.code == code) {
                    return t;
                }
            }
            return null;
        }

        public boolean isFloatingPoint() {
            return this == FLOAT || this == DOUBLE || this == FLOAT16 || this == BFLOAT16;
        }

        public boolean isInteger() {
            return this == INT64 || this == INT32 || this == INT16 || this == INT8 || this == UINT8
                    || this == UINT16 || this == UINT32 || this == UINT64 || this == BOOL;
        }
    }

    /** Tile edge of the blocked transpose: 64 x 64 floats = 16 KB, so a source and a target tile stay in L1/L2. */
    private static final int TRANSPOSE_BLOCK = 64;

    private final String source;
    private final String name;
    private final long[] dims;
    private final ElementType type;
    private final ByteBuffer raw;
    private final float[] floats;
    private final double[] doubles;
    private final long[] integers;

    /**
     * @param source   file name for error messages
     * @param raw      little-endian element bytes ({@code raw_data}, or packed {@code float_data}/{@code double_data}),
     *                 or {@code null}
     * @param floats   unpacked {@code float_data}, or {@code null}
     * @param doubles  unpacked {@code double_data}, or {@code null}
     * @param integers {@code int64_data} or {@code int32_data} values, or {@code null}
     */
    OnnxTensor(String source, String name, long[] dims, ElementType type, ByteBuffer raw, float[] floats,
               double[] doubles, long[] integers) {
        this.source = source;
        this.name = name;
        this.dims = dims.clone();
        this.type = type;
        this.raw = raw;
        this.floats = floats;
        this.doubles = doubles;
        this.integers = integers;
    }

    /** A small float32 constant, e.g. from a {@code Constant} node's {@code value_float(s)} attribute. */
    static OnnxTensor ofFloats(String source, String name, long[] dims, float[] values) {
        return new OnnxTensor(source, name, dims, ElementType.FLOAT, null, values, null, null);
    }

    /** A small int64 constant, e.g. from a {@code Constant} node's {@code value_int(s)} attribute. */
    static OnnxTensor ofLongs(String source, String name, long[] dims, long[] values) {
        return new OnnxTensor(source, name, dims, ElementType.INT64, null, null, null, values);
    }

    public String name() {
        return name;
    }

    /** The ONNX shape; empty for a scalar. */
    public long[] dims() {
        return dims.clone();
    }

    public int rank() {
        return dims.length;
    }

    public ElementType elementType() {
        return type;
    }

    public long numElements() {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }

    /**
     * The values as a float32 'c'-order array with the ONNX shape (rank 0 for a scalar). Integer tensors are
     * converted too; int64 values beyond 2^24 lose precision, as in any float32 cast.
     */
    public INDArray toFloatArray() {
        int n = checkedCount();
        if (dims.length == 0) {
            return Nd4j.scalar(DataType.FLOAT, readFloat(0));
        }
        INDArray result = Nd4j.createUninitialized(DataType.FLOAT, dims.clone(), 'c');
        if (n > 0) {
            decodeInto(nativeFloats(result), n);
        }
        return result;
    }

    /**
     * A 2-D tensor {@code [rows, cols]} transposed to {@code [cols, rows]}, float32 'c' order: how a weight that
     * constant folding stored as {@code W^T} ({@code [in, out]}) gets back PyTorch's {@code [out, in]}. Done here
     * with a blocked transpose, several times faster than {@code transpose().dup('c')} on ViT-B sized matrices.
     */
    public INDArray toFloatArrayTransposed() {
        if (dims.length != 2) {
            throw new CheckpointException(source + ": tensor '" + name + "' has shape " + Arrays.toString(dims)
                    + ", expected 2-D to transpose");
        }
        int n = checkedCount();
        int rows = (int) dims[0];
        int cols = (int) dims[1];
        float[] stored = new float[n];
        decodeInto(FloatBuffer.wrap(stored), n);
        float[] transposed = new float[n];
        for (int r0 = 0; r0 < rows; r0 += TRANSPOSE_BLOCK) {
            int r1 = Math.min(rows, r0 + TRANSPOSE_BLOCK);
            for (int c0 = 0; c0 < cols; c0 += TRANSPOSE_BLOCK) {
                int c1 = Math.min(cols, c0 + TRANSPOSE_BLOCK);
                for (int r = r0; r < r1; r++) {
                    for (int c = c0; c < c1; c++) {
                        transposed[c * rows + r] = stored[r * cols + c];
                    }
                }
            }
        }
        INDArray result = Nd4j.createUninitialized(DataType.FLOAT, new long[] {cols, rows}, 'c');
        if (n > 0) {
            nativeFloats(result).put(transposed);
        }
        return result;
    }

    private static FloatBuffer nativeFloats(INDArray array) {
        return array.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    /** Writes the {@code n} values, converted to float, to {@code target} from its position 0. */
    private void decodeInto(FloatBuffer target, int n) {
        if (type == ElementType.FLOAT && raw != null) {
            target.put(0, raw.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer(), 0, n);
        } else {
            for (int i = 0; i < n; i++) {
                target.put(i, readFloat(i));
            }
        }
    }

    /** The values of an INT64 or INT32 tensor (e.g. a {@code Reshape} shape), flattened in 'c' order. */
    public long[] toLongArray() {
        if (type != ElementType.INT64 && type != ElementType.INT32) {
            throw new CheckpointException(source + ": tensor '" + name + "' is " + type + ", expected INT64 or INT32");
        }
        int n = checkedCount();
        long[] values = new long[n];
        for (int i = 0; i < n; i++) {
            values[i] = readLong(i);
        }
        return values;
    }

    /** The value of a one-element floating-point or integer tensor (e.g. an attention scale), else empty. */
    public OptionalDouble singleValue() {
        if (numElements() != 1 || !(type.isFloatingPoint() || type == ElementType.INT64 || type == ElementType.INT32)) {
            return OptionalDouble.empty();
        }
        checkedCount();
        return OptionalDouble.of(type.isFloatingPoint() ? readFloat(0) : readLong(0));
    }

    @Override
    public String toString() {
        return name + " " + type + Arrays.toString(dims);
    }

    /** The element count, after checking that the stored data holds exactly that many values of a known type. */
    private int checkedCount() {
        long expected = numElements();
        if (expected > Integer.MAX_VALUE) {
            throw new CheckpointException(source + ": tensor '" + name + "' has " + expected
                    + " elements, more than one array can hold");
        }
        if (!type.isFloatingPoint() && type != ElementType.INT64 && type != ElementType.INT32) {
            throw new CheckpointException(source + ": tensor '" + name + "' has unsupported element type " + type
                    + "; expected FLOAT, DOUBLE, FLOAT16, BFLOAT16, INT64 or INT32");
        }
        long stored = storedCount();
        if (stored != expected) {
            throw new CheckpointException(source + ": tensor '" + name + "' " + type + Arrays.toString(dims)
                    + " stores " + stored + " values, expected " + expected);
        }
        return (int) expected;
    }

    private long storedCount() {
        if (raw != null) {
            return raw.remaining() % type.byteSize == 0 ? raw.remaining() / type.byteSize : -1;
        }
        if (floats != null) {
            return floats.length;
        }
        if (doubles != null) {
            return doubles.length;
        }
        return integers != null ? integers.length : 0;
    }

    private float readFloat(int i) {
        return switch (type) {
            case FLOAT -> raw != null ? raw.getFloat(4 * i) : floats[i];
            case DOUBLE -> (float) (raw != null ? raw.getDouble(8 * i) : doubles[i]);
            case FLOAT16 -> halfToFloat(raw != null ? raw.getShort(2 * i) : (int) integers[i]);
            case BFLOAT16 -> Float.intBitsToFloat((raw != null ? raw.getShort(2 * i) : (int) integers[i]) << 16);
            case INT64, INT32 -> readLong(i);
            default -> throw new IllegalStateException("unchecked element type " + type);
        };
    }

    private long readLong(int i) {
        if (raw == null) {
            return type == ElementType.INT32 ? (int) integers[i] : integers[i];
        }
        return type == ElementType.INT64 ? raw.getLong(8 * i) : raw.getInt(4 * i);
    }

    /** IEEE 754 binary16 bits (low 16 bits of {@code bits}) to float, including subnormals, inf and NaN. */
    static float halfToFloat(int bits) {
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1F;
        int mantissa = bits & 0x3FF;
        if (exponent == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            float magnitude = mantissa * 0x1p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }
}
