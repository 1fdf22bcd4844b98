package org.sa2vp.layers.runtime;

import org.nd4j.linalg.api.blas.params.MMulTranspose;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.Mmul;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Matrix products of the hand-written kernels, through libnd4j's {@code matmul} op with transpose flags.
 *
 * <p>Why not {@code INDArray.mmul}: in ND4J 1.0.0-M2.1 it copies row-major operands (and transposed views) into
 * column-major buffers before calling sgemm and copies the result back, which made it run at 105–210 GFLOP/s
 * here against 290–325 GFLOP/s for the same sgemm called by the op on the original buffers (ViT-B shapes
 * {@code [1576, 768]·[768, 3072]} and their backward transposes, 2 threads; results identical to the bit).
 * The op also accumulates ({@code beta = 1}) straight into gradient views of either order.
 */
public final class Gemm {

    private Gemm() {
    }

    /** @return {@code op(a)·op(b)}, a new row-major matrix in the current workspace; op transposes when asked */
    public static INDArray product(INDArray a, boolean transposeA, INDArray b, boolean transposeB) {
        long rows = transposeA ? a.size(1) : a.size(0);
        long columns = transposeB ? b.size(0) : b.size(1);
        // beta = 0: sgemm never reads the output, so it need not be zeroed.
        INDArray out = Nd4j.createUninitialized(a.dataType(), rows, columns);
        Nd4j.exec(new Mmul(a, b, out, 1.0, 0.0, flags(transposeA, transposeB)));
        return out;
    }

    /** @return {@code a·b} */
    public static INDArray product(INDArray a, INDArray b) {
        return product(a, false, b, false);
    }

    /** {@code z += op(a)·op(b)} in place ({@code z} may be a view, row- or column-major). */
    public static void accumulate(INDArray z, INDArray a, boolean transposeA, INDArray b, boolean transposeB) {
        Nd4j.exec(new Mmul(a, b, z, 1.0, 1.0, flags(transposeA, transposeB)));
    }

    private static MMulTranspose flags(boolean transposeA, boolean transposeB) {
        return MMulTranspose.builder().transposeA(transposeA).transposeB(transposeB).build();
    }
}
