package org.sa2vp.data;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A labelled image set the trainer can draw batches from in any order: in-memory arrays ({@link InMemoryImages}),
 * or image files on disk decoded batch by batch ({@link StreamedImages}: image folders, VTAB-1k lists, FGVC JSON).
 */
public interface LabelledImages {

    /** A batch: images {@code [n, C, H, W]} (float, already resized and normalised) and class indices. */
    record Batch(INDArray images, int[] labels) {
    }

    /** Number of images. */
    int size();

    /** The class index of every image, in index order (read without decoding any image). */
    int[] labels();

    /**
     * A digest of the set's content (hex): equal for the same images and labels in the same order, different
     * otherwise, so a training run is never resumed on other data. This default hashes every label and every
     * decoded image; sets backed by files override it with a digest of their list (paths, sizes, labels).
     */
    default String fingerprint() {
        java.security.MessageDigest digest = Fingerprints.sha256();
        Fingerprints.update(digest, labels());
        int chunk = 256;
        for (int from = 0; from < size(); from += chunk) {
            int[] indices = java.util.stream.IntStream.range(from, Math.min(size(), from + chunk)).toArray();
            Fingerprints.update(digest, batch(indices).images());
        }
        return Fingerprints.hex(digest);
    }

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
