package org.sa2vp.layers.runtime;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * LayerNorm over the last axis of a token matrix, forward and hand-written backward.
 *
 * <p>Works on 2-D token matrices {@code [N, D]} (N = batch·tokens). Unlike {@code sd.nn().layerNorm} in
 * DL4J M2.1 it honours epsilon, which Google/VPT checkpoints need (1e-6).
 */
public final class LayerNormKernel {

    private LayerNormKernel() {
    }

    /** What the backward pass needs: the normalised input {@code [N, D]} and 1/σ {@code [N, 1]}. */
    public record Cache(INDArray normalised, INDArray inverseStd) {
    }

    /** @return {@code gamma ⊙ (x - μ)/√(σ² + eps) + beta}, {@code [N, D]}; the cache is written to {@code cache[0]}. */
    public static INDArray forward(INDArray x, INDArray gamma, INDArray beta, double eps, Cache[] cache) {
        long n = x.size(0);
        INDArray centred = x.subColumnVector(x.mean(1).reshape(n, 1));
        INDArray variance = centred.mul(centred).mean(1).reshape(n, 1);
        INDArray inverseStd = Transforms.pow(variance.addi(eps), -0.5, false);
        INDArray normalised = centred.muliColumnVector(inverseStd);
        if (cache != null) {
            cache[0] = new Cache(normalised, inverseStd);
        }
        return normalised.mulRowVector(gamma).addiRowVector(beta);
    }

    /**
     * @param dy     gradient of the output, {@code [N, D]}
     * @param dGamma where to accumulate dL/dgamma ({@code [1, D]}), or null when gamma is frozen
     * @param dBeta  where to accumulate dL/dbeta, or null when beta is frozen
     * @return dL/dx, {@code [N, D]}
     */
    public static INDArray backward(INDArray dy, Cache cache, INDArray gamma, INDArray dGamma, INDArray dBeta) {
        long n = dy.size(0);
        INDArray xhat = cache.normalised();
        if (dGamma != null) {
            dGamma.addi(dy.mul(xhat).sum(0).reshape(dGamma.shape()));
        }
        if (dBeta != null) {
            dBeta.addi(dy.sum(0).reshape(dBeta.shape()));
        }
        INDArray dxhat = dy.mulRowVector(gamma);
        INDArray meanDxhat = dxhat.mean(1).reshape(n, 1);
        INDArray meanDxhatXhat = dxhat.mul(xhat).mean(1).reshape(n, 1);
        return dxhat.subiColumnVector(meanDxhat)
                .subi(xhat.mulColumnVector(meanDxhatXhat))
                .muliColumnVector(cache.inverseStd());
    }
}
