package org.sa2vp.cli;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.weights.NpzReader;
import org.sa2vp.data.InMemoryImages;
import picocli.CommandLine.Option;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Training and validation data as {@code .npy} arrays: float images {@code [N, C, H, W]} (already resized and
 * normalised) and class indices {@code [N]} (any float or integer dtype holding whole numbers). The other source,
 * image files, is {@link ImageDataOptions}.
 */
public final class NpyDataOptions {

    /** The {@code 'descr'} of a {@code .npy} header: byte order, kind ({@code f}, {@code i}, {@code u}, {@code b}),
     * item size in bytes. */
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'[<>|=]([a-z])(\\d+)'");

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
        String dtype = dtype(images);
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
        int bad = firstNonFinite(x);
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

    /**
     * The NumPy dtype of a {@code .npy} file, e.g. {@code float32} or {@code uint8}, from its header. Our own:
     * {@link NpzReader#readNpy} converts every dtype to float32 and does not say which it read.
     */
    static String dtype(Path npy) {
        if (!Files.isRegularFile(npy)) {
            throw new IllegalArgumentException(npy + ": no such file");
        }
        try (InputStream raw = Files.newInputStream(npy)) {
            DataInputStream in = new DataInputStream(raw);
            byte[] start = new byte[8];
            in.readFully(start);
            int length = start[6] == 1 ? in.readUnsignedByte() | in.readUnsignedByte() << 8
                    : in.readUnsignedByte() | in.readUnsignedByte() << 8 | in.readUnsignedByte() << 16
                    | in.readUnsignedByte() << 24;
            byte[] header = new byte[Math.min(Math.max(length, 0), 1 << 16)];
            in.readFully(header);
            Matcher descr = DESCR.matcher(new String(header, StandardCharsets.ISO_8859_1));
            if (!descr.find()) {
                // Not a plain numeric .npy: NpzReader names the problem when it reads the file.
                return "float";
            }
            int bits = 8 * Integer.parseInt(descr.group(2));
            return switch (descr.group(1)) {
                case "f" -> "float" + bits;
                case "i" -> "int" + bits;
                case "u" -> "uint" + bits;
                case "b" -> "bool";
                default -> descr.group(1) + descr.group(2);
            };
        } catch (java.io.EOFException e) {
            return "float";
        } catch (IOException e) {
            throw new UncheckedIOException(npy + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** Index of the first image (along dimension 0) holding NaN or infinity, −1 if none. */
    private static int firstNonFinite(INDArray images) {
        if (Double.isFinite(images.sumNumber().doubleValue())) {
            return -1;
        }
        for (int i = 0; i < images.size(0); i++) {
            for (float v : images.slice(i).dup('c').data().asFloat()) {
                if (!Float.isFinite(v)) {
                    return i;
                }
            }
        }
        return -1;
    }
}
