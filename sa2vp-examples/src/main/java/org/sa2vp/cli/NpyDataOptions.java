package org.sa2vp.cli;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.weights.NpzReader;
import org.sa2vp.data.InMemoryImages;
import org.sa2vp.data.LabelledImages;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * Training and validation data as {@code .npy} arrays: float32 images {@code [N, C, H, W]} (already resized and
 * normalised) and class indices {@code [N]} (any float or integer dtype holding whole numbers). Other sources
 * (image folders, VTAB split lists) plug in as further {@link LabelledImages} options.
 */
public final class NpyDataOptions {

    @Option(names = "--train", required = true, paramLabel = "X.npy", description = "training images, float32 "
            + "[N, C, H, W]")
    Path trainImages;

    @Option(names = "--train-labels", required = true, paramLabel = "Y.npy", description = "training labels [N]")
    Path trainLabels;

    @Option(names = "--val", paramLabel = "X.npy", description = "validation images, evaluated after every epoch "
            + "(top-1 accuracy of the image logits picks best.zip / adapter.safetensors)")
    Path valImages;

    @Option(names = "--val-labels", paramLabel = "Y.npy", description = "validation labels [N]")
    Path valLabels;

    public InMemoryImages train() {
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

    /** Images and labels from two {@code .npy} files, checked against each other. */
    public static InMemoryImages read(Path images, Path labels) {
        INDArray x = NpzReader.readNpy(images);
        if (x.rank() != 4) {
            throw new IllegalArgumentException(images + ": shape " + Arrays.toString(x.shape())
                    + ", expected [N, channels, height, width] (NCHW float32)");
        }
        int[] y = InMemoryImages.labelsOf(NpzReader.readNpy(labels), labels.toString());
        if (y.length != x.size(0)) {
            throw new IllegalArgumentException(labels + ": " + y.length + " labels for " + x.size(0) + " images in "
                    + images);
        }
        return new InMemoryImages(x, y);
    }
}
