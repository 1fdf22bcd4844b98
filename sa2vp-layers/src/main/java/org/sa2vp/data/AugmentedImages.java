package org.sa2vp.data;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.SplittableRandom;

/**
 * Training-time augmentation for small images, as ViTs need when trained from scratch on little data: a random
 * translation (pad by {@code padding} pixels with {@code fill}, crop back to the original size at a random offset,
 * as the CIFAR/Fashion-MNIST recipes do) and a random horizontal flip. The transform of an image depends only on
 * the seed, the epoch and the image's index, so a resumed run draws the same images as an uninterrupted one.
 * {@link #batch(int[])} (evaluation) returns the images unchanged.
 */
public final class AugmentedImages implements LabelledImages {

    private final LabelledImages source;
    private final int padding;
    private final double fill;
    private final boolean flip;
    private final long seed;

    /**
     * @param source  images {@code [N, C, H, W]}, already normalised
     * @param padding maximum shift in pixels (0: no translation)
     * @param fill    value of the pixels shifted in (the normalised background)
     * @param flip    mirror half of the images left-right
     */
    public AugmentedImages(LabelledImages source, int padding, double fill, boolean flip, long seed) {
        if (padding < 0) {
            throw new IllegalArgumentException("padding must be >= 0, got " + padding);
        }
        this.source = source;
        this.padding = padding;
        this.fill = fill;
        this.flip = flip;
        this.seed = seed;
    }

    @Override
    public int size() {
        return source.size();
    }

    @Override
    public int[] labels() {
        return source.labels();
    }

    /** The source's fingerprint and the augmentation's settings. */
    @Override
    public String fingerprint() {
        java.security.MessageDigest digest = Fingerprints.sha256();
        Fingerprints.update(digest, source.fingerprint() + " augmented: padding " + padding + ", fill " + fill
                + ", flip " + flip + ", seed " + seed);
        return Fingerprints.hex(digest);
    }

    @Override
    public Batch batch(int[] indices) {
        return source.batch(indices);
    }

    @Override
    public Batch batch(int[] indices, int epoch) {
        Batch plain = source.batch(indices);
        INDArray images = plain.images();
        long[] shape = images.shape();
        int n = (int) shape[0], c = (int) shape[1], h = (int) shape[2], w = (int) shape[3];
        float[] in = images.dup('c').data().asFloat();
        float[] out = new float[in.length];
        for (int i = 0; i < n; i++) {
            SplittableRandom random = new SplittableRandom(ImagePreprocessing.mix(seed, epoch, indices[i]));
            int dy = padding == 0 ? 0 : random.nextInt(2 * padding + 1) - padding;
            int dx = padding == 0 ? 0 : random.nextInt(2 * padding + 1) - padding;
            boolean mirror = flip && random.nextBoolean();
            for (int ch = 0; ch < c; ch++) {
                int base = (i * c + ch) * h * w;
                for (int y = 0; y < h; y++) {
                    int sy = y + dy;
                    for (int x = 0; x < w; x++) {
                        int sx = (mirror ? w - 1 - x : x) + dx;
                        out[base + y * w + x] = sy < 0 || sy >= h || sx < 0 || sx >= w
                                ? (float) fill : in[base + sy * w + sx];
                    }
                }
            }
        }
        return new Batch(Nd4j.create(out, shape, 'c').castTo(images.dataType() == DataType.DOUBLE
                ? DataType.DOUBLE : DataType.FLOAT), plain.labels());
    }
}
