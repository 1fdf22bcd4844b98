package org.sa2vp.layers.runtime;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

/**
 * Absolute (thread-safe) bulk reads and writes of a dense row-major ND4J array's elements as doubles, straight on
 * its off-heap buffer: the Java kernels' only way in and out of ND4J memory ({@code data().asDouble()} allocates
 * and converts the whole buffer, {@code createFromArray} copies twice).
 */
final class BufferAccess {

    private final FloatBuffer floats;
    private final DoubleBuffer doubles;
    private final int offset;

    BufferAccess(INDArray x) {
        if (x.dataType() != DataType.FLOAT && x.dataType() != DataType.DOUBLE) {
            throw new IllegalArgumentException("Fused kernels take FLOAT or DOUBLE arrays, got " + x.dataType());
        }
        if (!isDense(x)) {
            throw new IllegalArgumentException("Fused kernels need dense row-major arrays, got "
                    + x.shapeInfoToString());
        }
        var bytes = x.data().asNio().order(ByteOrder.nativeOrder());
        floats = x.dataType() == DataType.FLOAT ? bytes.asFloatBuffer() : null;
        doubles = floats == null ? bytes.asDoubleBuffer() : null;
        offset = Math.toIntExact(x.offset());
    }

    /** Access to {@code x}, or to a dense copy of it (in the current workspace) when it is a strided view. */
    static BufferAccess of(INDArray x) {
        return new BufferAccess(dense(x));
    }

    /**
     * Whether {@code x}'s elements lie in one run in row-major order: every dimension longer than 1 has the stride
     * of the dimensions after it. Dimensions of length 1 may have any stride (ND4J gives a {@code [1, 1]} row of a
     * matrix the strides {@code [1, 1]}, which its own default-stride check refuses), and the ordering flag does
     * not matter when the strides say row-major.
     */
    static boolean isDense(INDArray x) {
        long[] shape = x.shape();
        long[] strides = x.stride();
        long expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] > 1 && strides[d] != expected) {
                return false;
            }
            expected *= shape[d];
        }
        return true;
    }

    /** {@code x}, or a dense row-major copy of it (in the current workspace). */
    static INDArray dense(INDArray x) {
        return isDense(x) ? x : x.dup('c');
    }

    /** {@code float[]} scratch a reader/writer of {@code type} needs for {@code length} elements (null for DOUBLE). */
    static float[] scratch(DataType type, int length) {
        return type == DataType.FLOAT ? new float[length] : null;
    }

    /** Elements {@code [from, from + length)} into {@code dst[at ...]}. */
    void read(long from, double[] dst, int at, int length, float[] scratch) {
        int index = Math.toIntExact(offset + from);
        if (floats != null) {
            floats.get(index, scratch, 0, length);
            for (int i = 0; i < length; i++) {
                dst[at + i] = scratch[i];
            }
        } else {
            doubles.get(index, dst, at, length);
        }
    }

    /** {@code src[at ...]} into elements {@code [from, from + length)}. */
    void write(long from, double[] src, int at, int length, float[] scratch) {
        int index = Math.toIntExact(offset + from);
        if (floats != null) {
            for (int i = 0; i < length; i++) {
                scratch[i] = (float) src[at + i];
            }
            floats.put(index, scratch, 0, length);
        } else {
            doubles.put(index, src, at, length);
        }
    }
}
