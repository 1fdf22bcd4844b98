package org.sa2vp.layers.runtime;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.stream.IntStream;

/**
 * Fused element-wise maps computed in Java over ND4J's off-heap buffers: each input is read once, in chunks that
 * stay in cache, the whole expression is evaluated in double precision, and the result is written once.
 *
 * <p>Why: ND4J runs an expression such as GELU as one native pass per operator (and its {@code erf} alone took
 * 35 ms on a ViT-B MLP activation {@code [1576, 3072]}, seven times its {@code exp}); a fused map makes one pass.
 * The chunks are split over {@code Nd4j.getEnvironment().maxThreads()} threads, so a process limited to one ND4J
 * thread stays on one core.
 */
final class ChunkedMap {

    /** Elements per chunk (rounded to whole rows): 2 K doubles per operand keep the operands within L2. */
    private static final int CHUNK = 2048;

    /**
     * The expression, on one chunk: {@code out[i] = f(in[0][i], in[1][i], ...)} for {@code i < length}; {@code in}
     * are copies that it may overwrite, {@code scratch} two spare chunks. C2 vectorises a loop only while its body is
     * small, so a long expression is best written as several loops over the chunk, each with one sub-expression.
     */
    @FunctionalInterface
    interface Body {
        void apply(double[][] in, double[] out, double[][] scratch, int length);
    }

    private ChunkedMap() {
    }

    /** @return a new array (in the current workspace) of the first input's shape holding the map of the inputs */
    static INDArray map(Body body, INDArray... inputs) {
        INDArray out = Nd4j.createUninitialized(inputs[0].dataType(), inputs[0].shape());
        return mapInto(out, 1, body, inputs);
    }

    /**
     * Writes the map into {@code out} (which may be one of the inputs) and returns it. With {@code rowLength > 1}
     * the arrays are seen as rows of that length (the last axis) and every chunk holds whole rows, so that the body
     * can work row by row (a softmax backward).
     */
    static INDArray mapInto(INDArray out, long rowLength, Body body, INDArray... inputs) {
        DataType type = out.dataType();
        long n = out.length();
        int row = Math.toIntExact(rowLength);
        if (n % row != 0) {
            throw new IllegalArgumentException("Row length " + row + " does not divide " + out.shapeInfoToString());
        }
        int chunk = Math.max(1, CHUNK / row) * row;
        BufferAccess[] in = new BufferAccess[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i].dataType() != type || inputs[i].length() != n) {
                throw new IllegalArgumentException("Fused element-wise inputs must match the output "
                        + out.shapeInfoToString() + ", got " + inputs[i].shapeInfoToString());
            }
            in[i] = BufferAccess.of(inputs[i]);
        }
        boolean direct = BufferAccess.isDense(out);
        INDArray target = direct ? out : Nd4j.createUninitialized(type, out.shape());
        BufferAccess dst = new BufferAccess(target);
        int chunks = Math.toIntExact((n + chunk - 1) / chunk);
        int threads = Math.max(1, Math.min(Nd4j.getEnvironment().maxThreads(), chunks));
        IntStream parts = IntStream.range(0, threads);
        (threads > 1 ? parts.parallel() : parts).forEach(part -> {
            double[][] a = new double[in.length][chunk];
            double[] b = new double[chunk];
            double[][] spare = new double[2][chunk];
            float[] scratch = BufferAccess.scratch(type, chunk);
            for (long c = (long) chunks * part / threads, end = (long) chunks * (part + 1) / threads; c < end; c++) {
                long from = c * chunk;
                int length = (int) Math.min(chunk, n - from);
                for (int i = 0; i < in.length; i++) {
                    in[i].read(from, a[i], 0, length, scratch);
                }
                body.apply(a, b, spare, length);
                dst.write(from, b, 0, length, scratch);
            }
        });
        if (!direct) {
            out.assign(target);
        }
        return out;
    }

    /**
     * A row-wise map: {@code body} sees row r of every input and writes row r of every output. Inputs and outputs
     * are matrices with the same number of rows and any widths (a {@code [N, 1]} output holds one value per row).
     */
    @FunctionalInterface
    interface RowBody {
        void apply(double[][] in, double[][] out);
    }

    /** Runs {@code body} on every row; outputs are written in place and must be dense row-major matrices. */
    static void mapRows(RowBody body, INDArray[] inputs, INDArray[] outputs) {
        long rows = outputs[0].size(0);
        BufferAccess[] in = new BufferAccess[inputs.length];
        int[] inWidth = new int[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            in[i] = BufferAccess.of(check(inputs[i], rows, outputs[0].dataType()));
            inWidth[i] = Math.toIntExact(inputs[i].size(1));
        }
        BufferAccess[] out = new BufferAccess[outputs.length];
        int[] outWidth = new int[outputs.length];
        for (int i = 0; i < outputs.length; i++) {
            out[i] = new BufferAccess(check(outputs[i], rows, outputs[0].dataType()));
            outWidth[i] = Math.toIntExact(outputs[i].size(1));
        }
        int threads = (int) Math.max(1, Math.min(Nd4j.getEnvironment().maxThreads(), rows));
        IntStream parts = IntStream.range(0, threads);
        (threads > 1 ? parts.parallel() : parts).forEach(part -> {
            double[][] a = new double[in.length][];
            double[][] b = new double[out.length][];
            int widest = 0;
            for (int i = 0; i < in.length; i++) {
                a[i] = new double[inWidth[i]];
                widest = Math.max(widest, inWidth[i]);
            }
            for (int i = 0; i < out.length; i++) {
                b[i] = new double[outWidth[i]];
                widest = Math.max(widest, outWidth[i]);
            }
            float[] scratch = BufferAccess.scratch(outputs[0].dataType(), widest);
            for (long r = rows * part / threads, end = rows * (part + 1) / threads; r < end; r++) {
                for (int i = 0; i < in.length; i++) {
                    in[i].read(r * inWidth[i], a[i], 0, inWidth[i], scratch);
                }
                body.apply(a, b);
                for (int i = 0; i < out.length; i++) {
                    out[i].write(r * outWidth[i], b[i], 0, outWidth[i], scratch);
                }
            }
        });
    }

    /** A {@code [1, D]} (or {@code [D]}) parameter, as doubles. */
    static double[] vector(INDArray x) {
        return x.reshape(x.length()).toDoubleVector();
    }

    private static INDArray check(INDArray x, long rows, DataType type) {
        if (x.rank() != 2 || x.size(0) != rows || x.dataType() != type) {
            throw new IllegalArgumentException("Row-map arrays must be " + type + " matrices with " + rows
                    + " rows, got " + x.shapeInfoToString());
        }
        return x;
    }

}
