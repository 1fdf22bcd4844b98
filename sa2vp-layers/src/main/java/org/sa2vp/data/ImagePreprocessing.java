package org.sa2vp.data;

import lombok.AllArgsConstructor;
import lombok.Builder;
import lombok.Data;
import lombok.NoArgsConstructor;
import lombok.With;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.config.ConfigSupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * How a decoded image {@code [1, C, H, W]} (float, [0, 1], already in the backbone's channel count) becomes a
 * network input, serialisable as JSON so a run can record it: resize, crop, horizontal flip, per-channel
 * normalisation, in that order, as torchvision composes them. Training batches ({@link StreamedImages#batch(int[],
 * int)}) draw the random crop offset and flip from (seed, epoch, image index) only, so a resumed run sees the same
 * pixels; evaluation batches ({@link StreamedImages#batch(int[])}) take the centre crop and never flip.
 *
 * <p>The SA2VP authors' two pipelines (their {@code datasets.py}):
 * <ul>
 * <li>{@link #vtab1k()}: every VTAB-1k image is stretched to 224 × 224 (both sides set, aspect ratio not kept),
 * bilinear as Pillow does it, then normalised with mean 0.5 and std 0.5 per channel (timm's "Inception" constants,
 * mapping [0, 1] to [−1, 1]); the same for training and test, so no random augmentation at all.</li>
 * <li>{@link #fgvc()}: the shorter side is resized to 256 (aspect ratio kept), then a 224 × 224 window is cut at a
 * uniformly random position and mirrored with probability ½ for training, or cut at the centre for evaluation;
 * same normalisation. No padding around the random crop.</li>
 * </ul>
 */
@Data
@Builder(toBuilder = true)
@With
@NoArgsConstructor
@AllArgsConstructor
public class ImagePreprocessing {

    /** How the decoded image is brought to a working size. */
    public enum Resize {
        /** Keep the decoded size (then a crop must fix the output size). */
        NONE,
        /** To exactly {@code resizeHeight × resizeWidth} (torchvision {@code Resize((h, w))}). */
        STRETCH,
        /** Shorter side to {@code resizeShorterSide}, aspect kept (torchvision {@code Resize(size)}). */
        SHORTER_SIDE
    }

    /** Which window of the resized image becomes the network input. */
    public enum Crop {
        /** The whole resized image. */
        NONE,
        /** The centred {@code cropHeight × cropWidth} window. */
        CENTER,
        /** For training a random window (after padding by {@code cropPadding}); for evaluation the centred one. */
        RANDOM
    }

    /** The names {@link #preset(String)} knows. */
    public static final List<String> PRESETS = List.of("vtab1k", "fgvc");
    /** The file a training run keeps its preprocessing in, next to what it trained, so evaluation sees alike. */
    public static final String FILE = "preprocessing.json";

    /** Channels of the network input: 3 (RGB) or 1 (grey, ITU-R BT.601 luminance). */
    @Builder.Default
    private int channels = 3;
    /** How the decoded image is brought to size before cropping ({@link Resize}). */
    @Builder.Default
    private Resize resize = Resize.STRETCH;
    /** Target height of {@link Resize#STRETCH}. */
    @Builder.Default
    private int resizeHeight = 224;
    /** Target width of {@link Resize#STRETCH}. */
    @Builder.Default
    private int resizeWidth = 224;
    /** Target shorter side of {@link Resize#SHORTER_SIDE}. */
    @Builder.Default
    private int resizeShorterSide = 256;
    /**
     * Widen the bilinear filter when shrinking (Pillow's and torchvision-on-PIL behaviour); false gives PyTorch's
     * {@code F.interpolate} without antialiasing.
     */
    @Builder.Default
    private boolean antialias = true;
    /** Which window of the resized image the network sees ({@link Crop}); random only in training batches. */
    @Builder.Default
    private Crop crop = Crop.NONE;
    /** Height of the crop window: the network input's height when cropping. */
    @Builder.Default
    private int cropHeight = 224;
    /** Width of the crop window: the network input's width when cropping. */
    @Builder.Default
    private int cropWidth = 224;
    /** Pixels of zeros (black, before normalisation) added on every side before a {@link Crop#RANDOM} window. */
    private int cropPadding;
    /** Mirror a training image left-right with probability ½. */
    private boolean horizontalFlip;
    /** Per-channel mean subtracted after scaling to [0, 1] (one value: every channel). */
    @Builder.Default
    private double[] mean = {0.5, 0.5, 0.5};
    /** Per-channel standard deviation divided by (one value: every channel). */
    @Builder.Default
    private double[] std = {0.5, 0.5, 0.5};
    /** Seeds the random crop and flip (with the epoch and the image index). */
    @Builder.Default
    private long seed = 42;

    /** The authors' VTAB-1k pipeline (see the class comment). */
    public static ImagePreprocessing vtab1k() {
        return builder().build();
    }

    /** The authors' FGVC pipeline (see the class comment). */
    public static ImagePreprocessing fgvc() {
        return builder().resize(Resize.SHORTER_SIDE).resizeShorterSide(256).crop(Crop.RANDOM).cropHeight(224)
                .cropWidth(224).horizontalFlip(true).build();
    }

    /**
     * A preset by name: {@code vtab1k} or {@code fgvc}.
     *
     * @throws IllegalArgumentException naming the known presets
     */
    public static ImagePreprocessing preset(String name) {
        return switch (name) {
            case "vtab1k" -> vtab1k();
            case "fgvc" -> fgvc();
            default -> throw new IllegalArgumentException("unknown preprocessing preset '" + name + "', expected one "
                    + "of " + PRESETS);
        };
    }

    /**
     * This pipeline for a network input of {@code channels × height × width}: a stretch goes to that size, a crop
     * takes that size and the resize before it keeps the preset's ratio (FGVC: shorter side 256 for a 224 crop, so
     * 37 for a 32 crop); one-channel inputs keep the first mean and std.
     */
    public ImagePreprocessing forInput(int channels, int height, int width) {
        ImagePreprocessing out = withChannels(channels);
        if (crop != Crop.NONE) {
            int side = (int) Math.round(resizeShorterSide * (double) Math.max(height, width)
                    / Math.max(cropHeight, cropWidth));
            out = out.withCropHeight(height).withCropWidth(width).withResizeShorterSide(side)
                    .withResizeHeight((int) Math.round(resizeHeight * (double) height / cropHeight))
                    .withResizeWidth((int) Math.round(resizeWidth * (double) width / cropWidth));
        } else {
            out = out.withResizeHeight(height).withResizeWidth(width);
        }
        if (channels == 1) {
            out = out.withMean(new double[]{mean[0]}).withStd(new double[]{std[0]});
        }
        return out.validated();
    }

    /**
     * One image file as the network sees it in evaluation (centre crop, no flip): {@code [1, channels, H, W]}.
     *
     * @throws IllegalArgumentException in one line naming the file when it is missing, truncated or not an image
     */
    public INDArray load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + ": no such image file");
        }
        try {
            return apply(new ImageDecoder().read(file, channels), false, 0, 0);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(file + ": not a readable image ("
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()) + ")", e);
        }
    }

    /** Height of the network input. */
    public int outputHeight() {
        return crop != Crop.NONE ? cropHeight : resizeHeight;
    }

    /** Width of the network input. */
    public int outputWidth() {
        return crop != Crop.NONE ? cropWidth : resizeWidth;
    }

    /** This configuration after checking every field; a one-line error names the first wrong one. */
    public ImagePreprocessing validated() {
        check(channels == 1 || channels == 3, "channels", "1 or 3", channels);
        check(resize != null, "resize", "one of " + Arrays.toString(Resize.values()), resize);
        check(crop != null, "crop", "one of " + Arrays.toString(Crop.values()), crop);
        check(resize != Resize.NONE || crop != Crop.NONE, "crop", "CENTER or RANDOM when resize is NONE (every "
                + "batch needs one image size)", crop);
        if (resize == Resize.STRETCH) {
            check(resizeHeight > 0 && resizeWidth > 0, "resizeHeight × resizeWidth", "positive",
                    resizeHeight + "×" + resizeWidth);
        }
        if (resize == Resize.SHORTER_SIDE) {
            check(resizeShorterSide > 0, "resizeShorterSide", "> 0", resizeShorterSide);
            check(crop != Crop.NONE, "crop", "CENTER or RANDOM with resize SHORTER_SIDE (the longer side varies)",
                    crop);
        }
        if (crop != Crop.NONE) {
            check(cropHeight > 0 && cropWidth > 0, "cropHeight × cropWidth", "positive", cropHeight + "×" + cropWidth);
            int shortest = resize == Resize.STRETCH ? Math.min(resizeHeight - cropHeight, resizeWidth - cropWidth)
                    : resize == Resize.SHORTER_SIDE ? resizeShorterSide - Math.max(cropHeight, cropWidth) : 0;
            check(shortest >= 0, "cropHeight × cropWidth", "at most the resized size", cropHeight + "×" + cropWidth);
        }
        check(cropPadding >= 0, "cropPadding", ">= 0", cropPadding);
        check(cropPadding == 0 || crop == Crop.RANDOM, "cropPadding", "0 unless crop is RANDOM", cropPadding);
        check(mean != null && (mean.length == 1 || mean.length == channels), "mean", "1 or " + channels + " values",
                mean == null ? null : Arrays.toString(mean));
        check(std != null && (std.length == 1 || std.length == channels) && Arrays.stream(std).allMatch(s -> s > 0),
                "std", "1 or " + channels + " values > 0", std == null ? null : Arrays.toString(std));
        return this;
    }

    /**
     * Applies the pipeline to one decoded image.
     *
     * @param image [1, channels, H, W] in [0, 1]
     * @param train draw the random crop and flip (else centre crop, no flip)
     * @param epoch with the seed and {@code index}, the only input of the random draws
     * @param index the image's index in its set
     * @return [1, channels, outputHeight, outputWidth], normalised
     */
    public INDArray apply(INDArray image, boolean train, int epoch, int index) {
        INDArray x = switch (resize) {
            case NONE -> image;
            case STRETCH -> resized(image, resizeHeight, resizeWidth);
            case SHORTER_SIDE -> {
                int[] size = ImageTransforms.shorterSideSize((int) image.size(2), (int) image.size(3),
                        resizeShorterSide);
                yield resized(image, size[0], size[1]);
            }
        };
        SplittableRandom random = new SplittableRandom(mix(seed, epoch, index));
        if (crop == Crop.RANDOM && train) {
            if (cropPadding > 0) {
                x = ImageTransforms.pad(x, (int) x.size(2) + 2 * cropPadding, (int) x.size(3) + 2 * cropPadding, 0);
            }
            requireFits(x);
            int top = random.nextInt((int) x.size(2) - cropHeight + 1);
            int left = random.nextInt((int) x.size(3) - cropWidth + 1);
            x = ImageTransforms.crop(x, top, left, cropHeight, cropWidth);
        } else if (crop != Crop.NONE) {
            requireFits(x);
            x = ImageTransforms.centerCrop(x, cropHeight, cropWidth);
        }
        if (horizontalFlip && train && random.nextBoolean()) {
            x = ImageTransforms.flipHorizontal(x);
        }
        return ImageTransforms.normalize(x, mean, std);
    }

    /**
     * A {@link #FILE} (or any JSON of this class).
     *
     * @throws IllegalArgumentException in one line naming the file when it does not parse
     */
    public static ImagePreprocessing read(Path file) {
        try {
            return fromJson(Files.readString(file, java.nio.charset.StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(file + ": cannot read (" + e.getMessage() + ")", e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(file + ": not a preprocessing description ("
                    + String.valueOf(e.getMessage()).lines().findFirst().orElse("") + ")", e);
        }
    }

    /**
     * The preprocessing recorded next to {@code trainedFile} (a {@link #FILE} in its folder, as {@code sa2vp train}
     * writes), else {@code fallback}: how what was trained there saw its images.
     */
    public static ImagePreprocessing recordedNextTo(Path trainedFile, ImagePreprocessing fallback) {
        Path parent = trainedFile.toAbsolutePath().getParent();
        Path file = parent == null ? Path.of(FILE) : parent.resolve(FILE);
        return Files.isRegularFile(file) ? read(file) : fallback;
    }

    public String toJson() {
        return ConfigSupport.toPrettyJson(this);
    }

    public static ImagePreprocessing fromJson(String json) {
        return ConfigSupport.fromJson(json, ImagePreprocessing.class).validated();
    }

    private INDArray resized(INDArray image, int height, int width) {
        if (image.size(2) == height && image.size(3) == width) {
            return image;
        }
        return antialias ? ImageTransforms.resizeBilinearAntialiased(image, height, width)
                : ImageTransforms.resizeBilinear(image, height, width);
    }

    private void requireFits(INDArray image) {
        if (image.size(2) < cropHeight || image.size(3) < cropWidth) {
            throw new IllegalArgumentException("cannot crop " + cropHeight + "×" + cropWidth + " from a "
                    + image.size(2) + "×" + image.size(3) + " image (resize " + resize + ")");
        }
    }

    private static void check(boolean ok, String field, String expected, Object actual) {
        ConfigSupport.check(ok, "ImagePreprocessing", field, expected, actual);
    }

    /** A well-spread 64-bit seed for (seed, epoch, image), the same mixing as {@link AugmentedImages}. */
    static long mix(long seed, int epoch, int index) {
        long z = seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + index * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
