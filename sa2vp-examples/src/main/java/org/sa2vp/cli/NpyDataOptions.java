package org.sa2vp.cli;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.weights.NpzReader;
import org.sa2vp.data.InMemoryImages;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * Training and validation data as {@code .npy} arrays: float images {@code [N, C, H, W]} (already resized and
 * normalised) and class indices {@code [N]} (any float or integer dtype holding whole numbers). The other source,
 * image files, is {@link ImageDataOptions}.
 */
public final class NpyDataOptions {

    @Option(names = "--train", paramLabel = "X.npy", description = "training images, float32 [N, C, H, W], already "
            + "resized to the model and normalised (instead of --data)")
    Path trainImages;

    @Option(names = "--train-labels", paramLabel = "Y.npy", description = "training labels [N]")
    Path trainLabels;

    @Option(names = "--val", paramLabel = "X.npy", description = "validation images, evaluated after every epoch "
            + "(top-1 accuracy of the image logits picks best.zip / adapter.safetensors)")
    Path valImages;

    @Option(names = "--val-labels", paramLabel = "Y.npy", description = "validation labels [N]")
    Path valLabels;

    /** True when any of the four options is given. */
    public boolean given() {
        return trainImages != null || trainLabels != null || valImages != null || valLabels != null;
    }

    public InMemoryImages train() {
        if (trainImages == null || trainLabels == null) {
            throw new IllegalArgumentException("--train and --train-labels go together");
        }
        return read(trainImages, trainLabels);
    }

    /** The validation set, or null when neither {@code --val} nor {@code --val-labels} is given. */
    public InMemoryImages validation() {
        if (valImages == null && valLabels == null) {
            return null;
        }
        if (valImages == null || valLabels == null) {
            throw new IllegalArgumentException("--val and --val-labels go together");
        }
        return read(valImages, valLabels);
    }

    /**
     * Images and labels from two {@code .npy} files, checked against each other: the images must be a float array
     * of rank 4 without NaN or infinity (an integer array is raw pixels, refused with how to normalise them).
     */
    public static InMemoryImages read(Path images, Path labels) {
        String dtype = NpzReader.npyDtype(images);
        if (!dtype.startsWith("float")) {
            throw new IllegalArgumentException(images + " holds " + dtype + " values; sa2vp expects float32 images "
                    + "already scaled and normalised: x/255 then (x-0.5)/0.5 per channel for the vtab1k preset, or "
                    + "use --data with the image files");
        }
        INDArray x = NpzReader.readNpy(images);
        if (x.rank() != 4) {
            throw new IllegalArgumentException(images + ": shape " + Arrays.toString(x.shape())
                    + ", expected [N, channels, height, width] (NCHW float32)");
        }
        int bad = InMemoryImages.firstNonFinite(x);
        if (bad >= 0) {
            throw new IllegalArgumentException(images + ": image " + bad + " holds NaN or infinite values; fix or "
                    + "drop it");
        }
        int[] y = InMemoryImages.labelsOf(NpzReader.readNpy(labels), labels.toString());
        if (y.length != x.size(0)) {
            throw new IllegalArgumentException(labels + ": " + y.length + " labels for " + x.size(0) + " images in "
                    + images);
        }
        return new InMemoryImages(x, y);
    }
}
