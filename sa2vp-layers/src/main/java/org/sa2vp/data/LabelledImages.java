package org.sa2vp.data;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A labelled image set the trainer can draw batches from in any order: in-memory arrays
 * ({@link InMemoryImages}), and later image folders or VTAB split lists that decode on demand.
 */
public interface LabelledImages {

    /** A batch: images {@code [n, C, H, W]} (float, already resized and normalised) and class indices. */
    record Batch(INDArray images, int[] labels) {
    }

    /** Number of images. */
    int size();

    /**
     * The images at {@code indices} (each in [0, size()), in the given order; repeats allowed), as one batch.
     * The trainer calls this once per iteration, so an implementation may read files here.
     */
    Batch batch(int[] indices);

    /**
     * The batch the trainer draws in (0-based) {@code epoch}; the same as {@link #batch(int[])} unless the
     * set augments, where the epoch and the indices decide the random transform, so a resumed run sees the same
     * images as an uninterrupted one.
     */
    default Batch batch(int[] indices, int epoch) {
        return batch(indices);
    }
}
