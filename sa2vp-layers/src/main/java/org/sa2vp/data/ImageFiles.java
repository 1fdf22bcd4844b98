package org.sa2vp.data;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import javax.imageio.ImageIO;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Decodes one image file (whatever {@link ImageIO} reads: PNG, JPEG, BMP, GIF) into float pixels {@code [C, H, W]} in
 * [0, 1], shared by the {@link VtabTask} and {@link ImageFolder} readers. Transparent pixels are composited onto
 * white (a transparent emoji or icon background is white, not black); RGB becomes grey by the ITU-R BT.601 luminance
 * {@code 0.299 R + 0.587 G + 0.114 B} (what Pillow's {@code convert("L")} computes), grey becomes RGB by copying;
 * the size is then brought to {@code height × width} by {@link ImageTransforms#resizeBilinear} (half-pixel centres,
 * as PyTorch).
 */
final class ImageFiles {

    private ImageFiles() {
    }

    /**
     * @param channels 1 (grey) or 3 (RGB)
     * @return {@code channels × height × width} values in [0, 1], row-major per channel
     */
    static float[] read(Path file, int channels, int height, int width) {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("channels must be 1 (grey) or 3 (RGB), got " + channels);
        }
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + height + "×" + width);
        }
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("image " + file + " not found");
        }
        BufferedImage image;
        try {
            image = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot decode image: " + e.getMessage(), e);
        }
        if (image == null) {
            throw new IllegalArgumentException(file + ": not an image javax.imageio reads (PNG, JPEG, BMP, GIF)");
        }
        int h = image.getHeight(), w = image.getWidth();
        float[] decoded = decode(image);
        float[] pixels = convert(decoded, decoded.length / (h * w), channels);
        if (h == height && w == width) {
            return pixels;
        }
        return ImageTransforms.resizeBilinear(Nd4j.create(pixels, new long[]{1, channels, h, w}, DataType.FLOAT),
                height, width).data().asFloat();
    }

    /** The image's own channels (1 for grey, 3 otherwise) {@code [C, H, W]} in [0, 1], alpha composited on white. */
    static float[] decode(BufferedImage image) {
        int h = image.getHeight(), w = image.getWidth(), plane = h * w;
        boolean alpha = image.getColorModel().hasAlpha();
        if (image.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY) {
            // Samples straight from the raster: getRGB would push grey values through a gamma conversion.
            Raster raster = image.getRaster();
            float greyMax = (1 << raster.getSampleModel().getSampleSize(0)) - 1;
            float alphaMax = alpha ? (1 << raster.getSampleModel().getSampleSize(1)) - 1 : 1;
            float[] grey = new float[plane];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    float value = raster.getSample(x, y, 0) / greyMax;
                    float opacity = alpha ? raster.getSample(x, y, 1) / alphaMax : 1;
                    grey[y * w + x] = onWhite(value, opacity);
                }
            }
            return grey;
        }
        float[] rgb = new float[3 * plane];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int argb = image.getRGB(x, y);
                float opacity = alpha ? (argb >>> 24) / 255f : 1;
                for (int c = 0; c < 3; c++) {
                    float value = ((argb >>> (16 - 8 * c)) & 0xFF) / 255f;
                    rgb[c * plane + y * w + x] = onWhite(value, opacity);
                }
            }
        }
        return rgb;
    }

    /**
     * A colour value in [0, 1] of opacity {@code opacity} composited onto white, the background of every reader here:
     * a transparent emoji or icon background is white, not black or whatever colour its transparent pixels store.
     */
    static float onWhite(float value, float opacity) {
        return value * opacity + (1 - opacity);
    }

    /** {@code [1 or 3, H, W]} → {@code [channels, H, W]}: luminance for RGB → grey, copies for grey → RGB. */
    static float[] convert(float[] pixels, int sourceChannels, int channels) {
        if (sourceChannels == channels) {
            return pixels;
        }
        if (channels == 3) {
            float[] rgb = new float[3 * pixels.length];
            for (int c = 0; c < 3; c++) {
                System.arraycopy(pixels, 0, rgb, c * pixels.length, pixels.length);
            }
            return rgb;
        }
        int plane = pixels.length / 3;
        float[] luminance = new float[plane];
        for (int i = 0; i < plane; i++) {
            luminance[i] = 0.299f * pixels[i] + 0.587f * pixels[plane + i] + 0.114f * pixels[2 * plane + i];
        }
        return luminance;
    }
}
