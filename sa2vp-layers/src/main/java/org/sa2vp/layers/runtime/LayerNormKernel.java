package org.sa2vp.layers.runtime;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * LayerNorm over the last axis of a token matrix, forward and hand-written backward.
 *
 * <p>Works on 2-D token matrices {@code [N, D]} (N = batch·tokens). Unlike {@code sd.nn().layerNorm} in
 * DL4J M2.1 it honours epsilon, which Google/VPT checkpoints need (1e-6). Each row is read once and written once
 * ({@link ChunkedMap#mapRows}, statistics in double): as separate ND4J ops (mean, subtract, square, mean, pow,
 * scale, affine) a ViT-B LayerNorm at batch 8 took 10–15 ms, about the cost of a 768×768 GEMM.
 */
public final class LayerNormKernel {

    private LayerNormKernel() {
    }

    /**
     * What the backward pass needs: 1/σ {@code [N, 1]} and either the normalised input {@code [N, D]} or, when
     * {@code normalised} is null, the input itself {@code [N, D]} (see {@link #fromInput}).
     */
    public record Cache(INDArray normalised, INDArray inverseStd, INDArray input) {
        public Cache(INDArray normalised, INDArray inverseStd) {
            this(normalised, inverseStd, null);
        }

        /** This cache with its arrays passed through {@code keep} (see {@link KernelWorkspaces#keeper}). */
        Cache kept(java.util.function.UnaryOperator<INDArray> keep) {
            return new Cache(keep.apply(normalised), keep.apply(inverseStd), keep.apply(input));
        }

        /**
         * This cache without its normalised copy, which backward recomputes from {@code input} (the array that was
         * normalised, which the caller keeps valid until backward anyway, e.g. a layer's input): one matrix less to
         * keep per LayerNorm, for one extra pass over the input in backward. {@code input} is referenced, not copied.
         */
        Cache fromInput(INDArray input, java.util.function.UnaryOperator<INDArray> keep) {
            return new Cache(null, keep.apply(inverseStd), input);
        }

        /** x̂ {@code [N, D]}: the kept copy, or (x − mean(x))·(1/σ) row by row, as {@link #normalise} computed it. */
        INDArray normalisedInput() {
            if (normalised != null) {
                return normalised;
            }
            int d = Math.toIntExact(input.size(1));
            INDArray out = Nd4j.createUninitialized(input.dataType(), input.size(0), d);
            ChunkedMap.mapRows((in, o) -> {
                double[] x = in[0];
                double mean = KernelMath.sum(x, d) / d;
                double inverseStd = in[1][0];
                for (int j = 0; j < d; j++) {
                    o[0][j] = (x[j] - mean) * inverseStd;
                }
            }, new INDArray[]{input, inverseStd}, new INDArray[]{out});
            return out;
        }
    }

    /** @return {@code gamma ⊙ (x - μ)/√(σ² + eps) + beta}, {@code [N, D]}; the cache is written to {@code cache[0]}. */
    public static INDArray forward(INDArray x, INDArray gamma, INDArray beta, double eps, Cache[] cache) {
        long n = x.size(0);
        int d = Math.toIntExact(x.size(1));
        double[] g = ChunkedMap.vector(gamma);
        double[] b = ChunkedMap.vector(beta);
        INDArray out = Nd4j.createUninitialized(x.dataType(), n, d);
        if (cache == null) {
            ChunkedMap.mapRows((in, o) -> normalise(in[0], g, b, eps, o[0], null), new INDArray[]{x},
                    new INDArray[]{out});
            return out;
        }
        INDArray normalised = Nd4j.createUninitialized(x.dataType(), n, d);
        INDArray inverseStd = Nd4j.createUninitialized(x.dataType(), n, 1);
        ChunkedMap.mapRows((in, o) -> o[2][0] = normalise(in[0], g, b, eps, o[0], o[1]), new INDArray[]{x},
                new INDArray[]{out, normalised, inverseStd});
        cache[0] = new Cache(normalised, inverseStd);
        return out;
    }

    /** One row: writes {@code y = gamma ⊙ x̂ + beta} and, when asked, x̂; @return 1/σ */
    private static double normalise(double[] x, double[] gamma, double[] beta, double eps, double[] y, double[] xhat) {
        int d = x.length;
        double mean = KernelMath.sum(x, d) / d;
        for (int j = 0; j < d; j++) {
            x[j] -= mean;
        }
        double squares = KernelMath.dot(x, 0, x, 0, d);
        double inverseStd = 1.0 / Math.sqrt(squares / d + eps);
        for (int j = 0; j < d; j++) {
            x[j] *= inverseStd;
        }
        for (int j = 0; j < d; j++) {
            y[j] = x[j] * gamma[j] + beta[j];
        }
        if (xhat != null) {
            System.arraycopy(x, 0, xhat, 0, d);
        }
        return inverseStd;
    }

    /**
     * @param dy     gradient of the output, {@code [N, D]}
     * @param dGamma where to accumulate dL/dgamma ({@code [1, D]}), or null when gamma is frozen
     * @param dBeta  where to accumulate dL/dbeta, or null when beta is frozen
     * @return dL/dx, {@code [N, D]}
     */
    public static INDArray backward(INDArray dy, Cache cache, INDArray gamma, INDArray dGamma, INDArray dBeta) {
        long n = dy.size(0);
        int d = Math.toIntExact(dy.size(1));
        INDArray xhat = cache.normalisedInput();
        if (dGamma != null) {
            dGamma.addi(dy.mul(xhat).sum(0).reshape(dGamma.shape()));
        }
        if (dBeta != null) {
            dBeta.addi(dy.sum(0).reshape(dBeta.shape()));
        }
        double[] g = ChunkedMap.vector(gamma);
        INDArray dx = Nd4j.createUninitialized(dy.dataType(), n, d);
        // dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂ ⊙ x̂)) / σ with dx̂ = dy ⊙ gamma
        ChunkedMap.mapRows((in, o) -> {
            double[] dxhat = in[0], normalised = in[1], out = o[0];
            for (int j = 0; j < d; j++) {
                dxhat[j] *= g[j];
            }
            double mean = KernelMath.sum(dxhat, d) / d;
            double meanDot = KernelMath.dot(dxhat, 0, normalised, 0, d) / d;
            double inverseStd = in[2][0];
            for (int j = 0; j < d; j++) {
                out[j] = (dxhat[j] - mean - normalised[j] * meanDot) * inverseStd;
            }
        }, new INDArray[]{dy, xhat, cache.inverseStd()}, new INDArray[]{dx});
        return dx;
    }
}
