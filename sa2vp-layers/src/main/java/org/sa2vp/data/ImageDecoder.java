package org.sa2vp.data;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.opencv.opencv_core.Mat;
import org.datavec.image.loader.NativeImageLoader;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.bytedeco.opencv.global.opencv_core.CV_16U;
import static org.bytedeco.opencv.global.opencv_core.CV_8U;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_UNCHANGED;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imdecode;

/**
 * Decodes one image file through DataVec's {@link NativeImageLoader} (OpenCV, with Leptonica for what OpenCV does
 * not read, e.g. GIF) into {@code [1, channels, H, W]} float32 in [0, 1], RGB order. OpenCV decodes with
 * {@code IMREAD_UNCHANGED} so that the bit depth and the alpha channel survive; then, in our code because neither
 * DataVec nor ND4J has these conversions: 8-bit values / 255, 16-bit / 65535 (so 16-bit PNGs become the 8-bit
 * range's [0, 1] without rounding), OpenCV's BGR(A) reordered to RGB, alpha composited onto white
 * ({@link ImageFiles#onWhite}, the same background as the {@code javax.imageio} readers; Pillow's {@code
 * convert("RGB")} in the authors' loader drops alpha instead, which only matters for transparent images, and the
 * VTAB/FGVC sets are opaque JPEGs), grey copied into three channels or RGB reduced to grey by the ITU-R BT.601
 * luminance ({@link ImageFiles#convert}). EXIF orientation is ignored, as Pillow's {@code open} ignores it.
 * Not thread-safe (one loader per instance).
 */
final class ImageDecoder {

    private final NativeImageLoader loader = new NativeImageLoader();

    /**
     * @param channels 1 or 3
     * @return {@code [1, channels, H, W]}
     * @throws IOException with a reason when the file cannot be read or is not an image these decoders read
     */
    INDArray read(Path file, int channels) throws IOException {
        return decode(Files.readAllBytes(file), channels);
    }

    /**
     * An image file's bytes decoded.
     *
     * @param channels 1 or 3
     * @return {@code [1, channels, H, W]}
     * @throws IOException with a reason when the bytes are not an image these decoders read
     */
    INDArray decode(byte[] bytes, int channels) throws IOException {
        INDArray raw;
        double maxValue;
        try (BytePointer encoded = new BytePointer(bytes); Mat encodedMat = new Mat(encoded);
             Mat decoded = imdecode(encodedMat, IMREAD_UNCHANGED)) {
            if (decoded == null || decoded.empty()) {
                raw = leptonica(bytes);
                maxValue = 255;
            } else {
                if (decoded.depth() != CV_8U && decoded.depth() != CV_16U) {
                    throw new IOException("OpenCV depth " + decoded.depth() + " is neither 8- nor 16-bit");
                }
                maxValue = decoded.depth() == CV_16U ? 65535 : 255;
                raw = loader.asMatrix(decoded);
            }
        }
        int sourceChannels = (int) raw.size(1), h = (int) raw.size(2), w = (int) raw.size(3), plane = h * w;
        float[] values = raw.castTo(DataType.FLOAT).dup('c').data().asFloat();
        boolean alpha = sourceChannels == 2 || sourceChannels == 4;
        int colours = alpha ? sourceChannels - 1 : sourceChannels;
        if (colours != 1 && colours != 3) {
            throw new IOException(sourceChannels + " channels");
        }
        float[] pixels = new float[colours * plane];
        for (int c = 0; c < colours; c++) {
            // OpenCV stores colour as B, G, R: RGB channel c is OpenCV channel colours-1-c.
            int source = (colours - 1 - c) * plane;
            for (int i = 0; i < plane; i++) {
                float value = (float) (values[source + i] / maxValue);
                pixels[c * plane + i] = alpha
                        ? ImageFiles.onWhite(value, (float) (values[colours * plane + i] / maxValue)) : value;
            }
        }
        float[] converted = ImageFiles.convert(pixels, colours, channels);
        return Nd4j.create(converted, new long[]{1, channels, h, w}, 'c');
    }

    /** NativeImageLoader's stream path: OpenCV first, then Leptonica (GIF and other formats OpenCV lacks). */
    private INDArray leptonica(byte[] bytes) throws IOException {
        try {
            return loader.asMatrix(new ByteArrayInputStream(bytes));
        } catch (IOException | RuntimeException e) {
            throw new IOException("neither OpenCV nor Leptonica decodes it", e);
        }
    }
}
