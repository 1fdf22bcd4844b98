package org.sa2vp.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The initialisations the authors' code uses, written into DL4J parameter views in place (views of the
 * network's flat parameter vector: always assign, never replace).
 */
public final class ParameterInit {

    private ParameterInit() {
    }

    /** Xavier/Glorot uniform on a {@code [in, out]} matrix: U(±√(6/(in+out))). */
    public static void xavierUniform(INDArray w) {
        uniform(w, Math.sqrt(6.0 / (w.size(0) + w.size(1))));
    }

    /** U(−bound, bound). */
    public static void uniform(INDArray w, double bound) {
        w.assign(Nd4j.rand(w.dataType(), w.shape()).muli(2 * bound).subi(bound));
    }

    /** N(0, std²). */
    public static void normal(INDArray w, double std) {
        w.assign(Nd4j.randn(w.dataType(), w.shape()).muli(std));
    }

    /**
     * timm's {@code trunc_normal_(std)} with its default absolute bounds ±2: N(0, std²) redrawn outside ±2.
     * For std = 0.02 nothing is truncated in practice, ({@code docs/AUTHORS-CODE.md} §1.2).
     */
    public static void truncatedNormal(INDArray w, double std) {
        INDArray values = Nd4j.randn(w.dataType(), w.shape()).muli(std);
        INDArray flat = values.reshape(values.length());
        for (long i = 0; i < flat.length(); i++) {
            while (Math.abs(flat.getDouble(i)) > 2.0) {
                flat.putScalar(i, Nd4j.getRandom().nextGaussian() * std);
            }
        }
        w.assign(values);
    }

    /** LayerNorm: gain 1, bias 0. */
    public static void layerNorm(INDArray gamma, INDArray beta) {
        gamma.assign(1.0);
        beta.assign(0.0);
    }
}
