package org.sa2vp.data;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;
import java.util.List;

/**
 * An image split whose images are 8-bit pixels in memory rather than files: the CIFAR and SVHN archives
 * ({@link TorchvisionArchives}). Each batch runs its images through an {@link ImagePreprocessing} as
 * {@link StreamedImages} runs decoded files, so a 32 × 32 archive image reaches the network exactly as the same
 * image saved as a PNG would (resize, crop, flip, normalisation; training crops and flips drawn from seed, epoch and
 * index). Holds one byte per pixel and channel, so CIFAR's 50,000 training images take 150 MB, a quarter of a float
 * copy; splits of one archive share its pixels.
 */
public final class PixelArrayImages implements LabelledImages {

    private final byte[] pixels;
    private final int first;
    private final int count;
    private final int channels;
    private final int height;
    private final int width;
    private final int[] labels;
    private final List<String> classNames;
    private final ImagePreprocessing preprocessing;
    private final String source;

    /**
     * @param pixels        images one after another, each channel-major {@code [C, H, W]}, 0–255
     * @param first         index of this split's first image in {@code pixels}
     * @param labels        one class index per image of the split, in {@code [0, classNames.size())}
     * @param shape         {@code {C, H, W}} of every image (C is 1 or 3)
     * @param classNames    the task's classes, in label order
     * @param preprocessing what every batch goes through
     * @param source        names the split in messages (the archive and the split)
     * @throws IllegalArgumentException naming {@code source} when the pixels are too few for the labels or a label is
     *                                  outside the classes
     */
    public PixelArrayImages(byte[] pixels, int first, int[] labels, int[] shape, List<String> classNames,
                            ImagePreprocessing preprocessing, String source) {
        this.channels = shape[0];
        this.height = shape[1];
        this.width = shape[2];
        long imageBytes = (long) channels * height * width;
        if (first < 0 || (first + (long) labels.length) * imageBytes > pixels.length) {
            throw new IllegalArgumentException(source + ": images " + first + ".." + (first + labels.length - 1)
                    + " of " + Arrays.toString(shape) + " pixels need " + (first + (long) labels.length) * imageBytes
                    + " bytes, the archive holds " + pixels.length);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classNames.size()) {
                throw new IllegalArgumentException(source + ": image " + i + " has label " + labels[i] + ", outside "
                        + "the " + classNames.size() + " classes [0, " + classNames.size() + ")");
            }
        }
        this.pixels = pixels;
        this.first = first;
        this.count = labels.length;
        this.labels = labels.clone();
        this.classNames = List.copyOf(classNames);
        this.preprocessing = preprocessing.validated();
        this.source = source;
    }

    @Override
    public int size() {
        return count;
    }

    @Override
    public int[] labels() {
        return labels.clone();
    }

    /** Number of classes of the task (one-hot width), also those absent from this split. */
    public int numClasses() {
        return classNames.size();
    }

    /** The class names in label order. */
    public List<String> classNames() {
        return classNames;
    }

    /** The archive and split, as messages name it. */
    public String source() {
        return source;
    }

    public ImagePreprocessing preprocessing() {
        return preprocessing;
    }

    /** A digest of the preprocessing, the labels and every pixel of the split. */
    @Override
    public String fingerprint() {
        java.security.MessageDigest digest = Fingerprints.sha256();
        Fingerprints.update(digest, preprocessing.toJson());
        Fingerprints.update(digest, labels);
        int imageBytes = channels * height * width;
        digest.update(pixels, first * imageBytes, count * imageBytes);
        return Fingerprints.hex(digest);
    }

    /** Evaluation batch: centre crop, no flip. */
    @Override
    public Batch batch(int[] indices) {
        return read(indices, false, 0);
    }

    /** Training batch of (0-based) {@code epoch}: the random crop and flip of the preprocessing. */
    @Override
    public Batch batch(int[] indices, int epoch) {
        return read(indices, true, epoch);
    }

    private Batch read(int[] indices, boolean train, int epoch) {
        INDArray images = Nd4j.create(DataType.FLOAT, indices.length, preprocessing.getChannels(),
                preprocessing.outputHeight(), preprocessing.outputWidth());
        int[] batchLabels = new int[indices.length];
        int imageBytes = channels * height * width;
        float[] image = new float[imageBytes];
        for (int i = 0; i < indices.length; i++) {
            int index = indices[i];
            if (index < 0 || index >= count) {
                throw new IndexOutOfBoundsException("image " + index + " of " + count + " (" + source + ")");
            }
            int offset = (first + index) * imageBytes;
            for (int p = 0; p < imageBytes; p++) {
                image[p] = (pixels[offset + p] & 0xff) / 255f; // as torchvision's ToTensor
            }
            float[] converted = ImageFiles.convert(image, channels, preprocessing.getChannels());
            INDArray decoded = Nd4j.create(converted, new long[]{1, preprocessing.getChannels(), height, width}, 'c');
            INDArray input = preprocessing.apply(decoded, train, epoch, index);
            images.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all())
                    .assign(input.reshape(input.size(1), input.size(2), input.size(3)));
            batchLabels[i] = labels[index];
        }
        return new Batch(images, batchLabels);
    }
}
