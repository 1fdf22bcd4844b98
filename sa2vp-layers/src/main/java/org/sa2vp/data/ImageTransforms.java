package org.sa2vp.data;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.enums.ImageResizeMethod;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.image.ImageResize;
import org.nd4j.linalg.api.ops.impl.transforms.custom.Reverse;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;

/**
 * Deterministic transforms that bring small dataset images {@code [N, C, H, W]} (NCHW) to what a ViT was
 * configured for: a size divisible by the patch size, 3 channels, the normalisation it was trained with. Every
 * method returns a new float32 array and leaves its input unchanged.
 */
public final class ImageTransforms {

    private ImageTransforms() {
    }

    /**
     * Pads with {@code value} around the image, centred (an odd difference puts the extra row/column at the
     * bottom/right), e.g. Fashion-MNIST 28×28 → 32×32 for patch 4 or 8 without resampling.
     *
     * @return {@code [N, C, height, width]}
     */
    public static INDArray pad(INDArray images, int height, int width, double value) {
        requireNchw(images);
        long h = images.size(2), w = images.size(3);
        if (height < h || width < w) {
            throw new IllegalArgumentException("cannot pad " + h + "×" + w + " images to " + height + "×" + width);
        }
        long top = (height - h) / 2, left = (width - w) / 2;
        INDArray out = Nd4j.valueArrayOf(new long[]{images.size(0), images.size(1), height, width}, value,
                DataType.FLOAT);
        out.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(top, top + h),
                NDArrayIndex.interval(left, left + w)).assign(images);
        return out;
    }

    /**
     * Bilinear resampling to {@code height × width} with half-pixel centres, as PyTorch's
     * {@code F.interpolate(mode="bilinear", align_corners=False)} (no antialiasing when shrinking).
     *
     * @return {@code [N, C, height, width]}
     */
    public static INDArray resizeBilinear(INDArray images, int height, int width) {
        requireNchw(images);
        int n = (int) images.size(0), c = (int) images.size(1), h = (int) images.size(2), w = (int) images.size(3);
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("target size must be positive, got " + height + "×" + width);
        }
        float[] in = images.castTo(DataType.FLOAT).dup('c').data().asFloat();
        float[] out = new float[n * c * height * width];
        int[] y0 = new int[height], y1 = new int[height], x0 = new int[width], x1 = new int[width];
        float[] wy = new float[height], wx = new float[width];
        sourceTaps(h, height, y0, y1, wy);
        sourceTaps(w, width, x0, x1, wx);
        for (int plane = 0; plane < n * c; plane++) {
            int src = plane * h * w, dst = plane * height * width;
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    float top = in[src + y0[y] * w + x0[x]] * (1 - wx[x]) + in[src + y0[y] * w + x1[x]] * wx[x];
                    float bottom = in[src + y1[y] * w + x0[x]] * (1 - wx[x]) + in[src + y1[y] * w + x1[x]] * wx[x];
                    out[dst + y * width + x] = top * (1 - wy[y]) + bottom * wy[y];
                }
            }
        }
        return Nd4j.create(out, new long[]{n, c, height, width}, DataType.FLOAT);
    }

    /**
     * Bilinear resampling to {@code height × width} as Pillow's {@code Image.resize(BILINEAR)} computes it, which is
     * what torchvision's {@code Resize} does to the PIL images the SA2VP and VPT loaders read: half-pixel centres,
     * and when shrinking a triangle filter widened by the scale factor (antialiasing), equal to PyTorch's
     * {@code F.interpolate(mode="bilinear", align_corners=False, antialias=True)}. Enlarging is the same as
     * {@link #resizeBilinear}. Runs libnd4j's {@code image_resize} op (bilinear, antialias), which matches PyTorch to
     * 3e-7 ({@code ImageTransformsTest} checks it against torch fixtures).
     *
     * @return {@code [N, C, height, width]}
     */
    public static INDArray resizeBilinearAntialiased(INDArray images, int height, int width) {
        requireNchw(images);
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("target size must be positive, got " + height + "×" + width);
        }
        INDArray nhwc = images.castTo(DataType.FLOAT).permute(0, 2, 3, 1).dup('c');
        INDArray resized = Nd4j.exec(new ImageResize(nhwc, Nd4j.createFromArray(height, width), false, true,
                ImageResizeMethod.ResizeBilinear))[0];
        return resized.permute(0, 3, 1, 2).dup('c');
    }

    /**
     * The size torchvision's {@code Resize(size)} (one int) gives an {@code h × w} image: the shorter side becomes
     * {@code size}, the longer {@code (int) (size · long / short)} (truncated, as its Python {@code int}).
     *
     * @return {@code {height, width}}
     */
    public static int[] shorterSideSize(int h, int w, int size) {
        if (h <= w) {
            return new int[]{size, (int) ((long) size * w / h)};
        }
        return new int[]{(int) ((long) size * h / w), size};
    }

    /**
     * The {@code height × width} window whose top-left pixel is ({@code top}, {@code left}), copied.
     *
     * @return {@code [N, C, height, width]}
     */
    public static INDArray crop(INDArray images, int top, int left, int height, int width) {
        requireNchw(images);
        if (top < 0 || left < 0 || top + height > images.size(2) || left + width > images.size(3)) {
            throw new IllegalArgumentException("crop " + height + "×" + width + " at (" + top + ", " + left
                    + ") outside the " + images.size(2) + "×" + images.size(3) + " image");
        }
        return images.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(top, top + height),
                NDArrayIndex.interval(left, left + width)).castTo(DataType.FLOAT).dup('c');
    }

    /**
     * The centred {@code height × width} window, placed as torchvision's {@code CenterCrop}: top
     * {@code round((H − height) / 2)} with Python's round-half-to-even, likewise left.
     *
     * @return {@code [N, C, height, width]}
     */
    public static INDArray centerCrop(INDArray images, int height, int width) {
        requireNchw(images);
        int top = (int) Math.rint((images.size(2) - height) / 2.0);
        int left = (int) Math.rint((images.size(3) - width) / 2.0);
        return crop(images, top, left, height, width);
    }

    /** Mirrors every image left-right (torchvision's {@code hflip}). @return {@code [N, C, H, W]} */
    public static INDArray flipHorizontal(INDArray images) {
        requireNchw(images);
        return Nd4j.exec(new Reverse(images.castTo(DataType.FLOAT).dup('c'), 3))[0];
    }

    /**
     * {@code (x − mean[c]) / std[c]} per channel (torchvision's {@code Normalize}); one value applies to every
     * channel.
     *
     * @return {@code [N, C, H, W]}
     */
    public static INDArray normalize(INDArray images, double[] mean, double[] std) {
        requireNchw(images);
        long channels = images.size(1);
        if ((mean.length != 1 && mean.length != channels) || (std.length != 1 && std.length != channels)) {
            throw new IllegalArgumentException(mean.length + " means and " + std.length + " stds for " + channels
                    + " channels");
        }
        INDArray out = images.castTo(DataType.FLOAT).dup('c');
        for (int c = 0; c < channels; c++) {
            double s = std[std.length == 1 ? 0 : c];
            if (!(s > 0)) {
                throw new IllegalArgumentException("std of channel " + c + " must be > 0, got " + s);
            }
            out.get(NDArrayIndex.all(), NDArrayIndex.point(c)).subi(mean[mean.length == 1 ? 0 : c]).divi(s);
        }
        return out;
    }

    private static void sourceTaps(int source, int target, int[] low, int[] high, float[] weight) {
        double scale = (double) source / target;
        for (int i = 0; i < target; i++) {
            double position = Math.max((i + 0.5) * scale - 0.5, 0);
            low[i] = Math.min((int) position, source - 1);
            high[i] = Math.min(low[i] + 1, source - 1);
            weight[i] = (float) (position - low[i]);
        }
    }

    /** Grey {@code [N, 1, H, W]} → {@code [N, channels, H, W]} by copying the one channel (3 for RGB backbones). */
    public static INDArray repeatChannels(INDArray images, int channels) {
        requireNchw(images);
        if (images.size(1) != 1 || channels <= 0) {
            throw new IllegalArgumentException("expected one channel to repeat into " + channels + ", got "
                    + Arrays.toString(images.shape()));
        }
        INDArray[] copies = new INDArray[channels];
        Arrays.fill(copies, images.castTo(DataType.FLOAT));
        return Nd4j.concat(1, copies);
    }

    /**
     * {@code (x − mean) / std} on every channel; {@code normalize(x, 0.5, 0.5)} maps [0, 1] to [−1, 1], the
     * normalisation of the ViT checkpoints SA2VP's authors use.
     */
    public static INDArray normalize(INDArray images, double mean, double std) {
        if (!(std > 0)) {
            throw new IllegalArgumentException("std must be > 0, got " + std);
        }
        return images.castTo(DataType.FLOAT).sub(mean).divi(std);
    }

    /**
     * Rotates image {@code i} by {@code quarterTurns[i]} × 90° counter-clockwise (numpy's {@code rot90} on the
     * last two axes). The images must be square so that every rotation keeps the shape.
     *
     * @return {@code [N, C, S, S]}
     */
    public static INDArray rotate90(INDArray images, int[] quarterTurns) {
        requireNchw(images);
        int n = (int) images.size(0), c = (int) images.size(1), s = (int) images.size(2);
        if (images.size(3) != s) {
            throw new IllegalArgumentException("rotation needs square images, got " + Arrays.toString(images.shape()));
        }
        if (quarterTurns.length != n) {
            throw new IllegalArgumentException(n + " images but " + quarterTurns.length + " rotations");
        }
        float[] in = images.castTo(DataType.FLOAT).dup('c').data().asFloat();
        float[] out = new float[in.length];
        for (int i = 0; i < n; i++) {
            int turns = Math.floorMod(quarterTurns[i], 4);
            for (int ch = 0; ch < c; ch++) {
                int plane = (i * c + ch) * s * s;
                for (int y = 0; y < s; y++) {
                    for (int x = 0; x < s; x++) {
                        // The source pixel that `turns` counter-clockwise quarter turns move to (y, x).
                        int source = switch (turns) {
                            case 0 -> y * s + x;
                            case 1 -> x * s + (s - 1 - y);
                            case 2 -> (s - 1 - y) * s + (s - 1 - x);
                            default -> (s - 1 - x) * s + y;
                        };
                        out[plane + y * s + x] = in[plane + source];
                    }
                }
            }
        }
        return Nd4j.create(out, new long[]{n, c, s, s}, DataType.FLOAT);
    }

    private static void requireNchw(INDArray images) {
        if (images.rank() != 4) {
            throw new IllegalArgumentException("images must be [N, C, H, W], got " + Arrays.toString(images.shape()));
        }
    }
}
