package org.sa2vp.backbone.weights;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/**
 * How a checkpoint stores a tensor, and its conversion to the PyTorch layout that timm uses
 * ({@code Linear.weight [out, in]}, {@code Conv2d.weight [out, in, kh, kw]}).
 */
public enum TensorLayout {
    /** Already in PyTorch layout. */
    AS_IS(-1),
    /** A {@code [in, out]} kernel (Flax/Keras Dense, ONNX MatMul) → {@code [out, in]}. */
    TRANSPOSE(2),
    /** A Flax/Keras convolution kernel {@code [kh, kw, in, out]} → {@code [out, in, kh, kw]}. */
    HWIO_TO_OIHW(4),
    /** A per-head input projection {@code [in, heads, headDim]} (Flax/Keras attention) → {@code [heads·headDim, in]}. */
    HEADS_IN(3),
    /** A per-head output projection {@code [heads, headDim, out]} → {@code [out, heads·headDim]}. */
    HEADS_OUT(3),
    /** Any shape → a vector (e.g. per-head biases {@code [heads, headDim]}, LayerNorm {@code [1, D]}). */
    FLATTEN(-1),
    /** {@code [1, D]} or {@code [D]} class token → {@code [1, 1, D]}; {@code [T, D]} position embedding → {@code [1, T, D]}. */
    BATCH_OF_ONE(-1);

    private final int rank;

    TensorLayout(int rank) {
        this.rank = rank;
    }

    /** @param describe the key as named in the file, for the error message */
    public INDArray toPyTorch(INDArray t, String source, String describe) {
        if (rank > 0 && t.rank() != rank) {
            throw new CheckpointException(source + ": key " + describe + " has shape " + Arrays.toString(t.shape())
                    + ", expected rank " + rank + " (" + name().toLowerCase().replace('_', ' ') + " layout)");
        }
        return switch (this) {
            case AS_IS -> t;
            case TRANSPOSE -> t.transpose().dup('c');
            case HWIO_TO_OIHW -> t.permute(3, 2, 0, 1).dup('c');
            case HEADS_IN -> t.reshape('c', t.size(0), t.size(1) * t.size(2)).transpose().dup('c');
            case HEADS_OUT -> t.reshape('c', t.size(0) * t.size(1), t.size(2)).transpose().dup('c');
            case FLATTEN -> t.reshape(new long[]{t.length()}).dup('c');
            case BATCH_OF_ONE -> t.rank() == 3 ? t : t.reshape('c', 1, t.length() / t.size(-1), t.size(-1)).dup('c');
        };
    }
}
