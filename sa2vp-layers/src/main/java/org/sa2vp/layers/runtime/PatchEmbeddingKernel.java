package org.sa2vp.layers.runtime;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Patch embedding of images {@code [B, C, H, W]}: the P×P stride-P convolution as one GEMM over
 * non-overlapping patches, an optional class token first, plus an optional position embedding (the ViT's; Swin has
 * none): {@code tokens [B, T, D] = [cls ; patches·W + b] + pos}. Backward returns the image gradient and accumulates
 * the gradients of the parameters whose accumulator is non-null.
 */
public final class PatchEmbeddingKernel {

    private PatchEmbeddingKernel() {
    }

    /** Geometry: channels, patch size, patch grid. */
    public record Geometry(int channels, int patch, int gridHeight, int gridWidth, int hidden, boolean classToken) {
        public int patches() {
            return gridHeight * gridWidth;
        }

        public int tokens() {
            return patches() + (classToken ? 1 : 0);
        }

        int patchLength() {
            return channels * patch * patch;
        }
    }

    /**
     * @param patchW {@code [C·P·P, D]}, patchB {@code [1, D]}, classToken {@code [1, D]} (or null without one),
     *               positions {@code [T, D]} (or null without a position embedding)
     * @param patchesOut receives the patch matrix {@code [B·N, C·P·P]} that backward needs
     */
    public static INDArray forward(INDArray images, Geometry g, INDArray patchW, INDArray patchB, INDArray classToken,
                                   INDArray positions, INDArray[] patchesOut) {
        long batch = images.size(0);
        int p = g.patch(), n = g.patches(), d = g.hidden(), t = g.tokens(), first = g.classToken() ? 1 : 0;
        // [B, C, gh, P, gw, P] → [B, gh, gw, C, P, P] → [B·N, C·P·P]
        INDArray patches = images.reshape('c', batch, g.channels(), g.gridHeight(), p, g.gridWidth(), p)
                .permute(0, 2, 4, 1, 3, 5).dup('c').reshape('c', batch * n, g.patchLength());
        patchesOut[0] = patches;
        INDArray tokens = Gemm.product(patches, patchW).addiRowVector(patchB);
        INDArray out = Nd4j.create(images.dataType(), batch, t, d);
        out.get(NDArrayIndex.all(), NDArrayIndex.interval(first, t), NDArrayIndex.all())
                .assign(tokens.reshape('c', batch, n, d));
        INDArray flat = out.reshape('c', batch, (long) t * d);
        if (first == 1) {
            flat.get(NDArrayIndex.all(), NDArrayIndex.interval(0, d)).addiRowVector(classToken);
        }
        if (positions != null) {
            flat.addiRowVector(positions.reshape(1, (long) t * d));
        }
        return out;
    }

    /**
     * @param dOut gradient of the tokens {@code [B, T, D]}
     * @param dPatchW, dPatchB, dClassToken, dPositions accumulators, each null when frozen
     * @return the image gradient {@code [B, C, H, W]}
     */
    public static INDArray backward(INDArray dOut, Geometry g, INDArray patches, INDArray patchW, INDArray dPatchW,
                                    INDArray dPatchB, INDArray dClassToken, INDArray dPositions) {
        long batch = dOut.size(0);
        int p = g.patch(), n = g.patches(), d = g.hidden(), t = g.tokens(), first = g.classToken() ? 1 : 0;
        if (dPositions != null) {
            dPositions.addi(dOut.sum(0));
        }
        if (first == 1 && dClassToken != null) {
            dClassToken.addi(dOut.get(NDArrayIndex.all(), NDArrayIndex.point(0), NDArrayIndex.all()).sum(0)
                    .reshape(1, d));
        }
        INDArray dTokens = dOut.get(NDArrayIndex.all(), NDArrayIndex.interval(first, t), NDArrayIndex.all())
                .dup('c').reshape('c', batch * n, d);
        if (dPatchW != null) {
            Gemm.accumulate(dPatchW, patches, true, dTokens, false);
        }
        if (dPatchB != null) {
            dPatchB.addi(dTokens.sum(0).reshape(1, d));
        }
        // [B·N, C·P·P] → [B, gh, gw, C, P, P] → [B, C, gh, P, gw, P] → [B, C, H, W]
        return Gemm.product(dTokens, false, patchW, true)
                .reshape('c', batch, g.gridHeight(), g.gridWidth(), g.channels(), p, p).permute(0, 3, 1, 4, 2, 5)
                .dup('c').reshape('c', batch, g.channels(), (long) g.gridHeight() * p, (long) g.gridWidth() * p);
    }
}
