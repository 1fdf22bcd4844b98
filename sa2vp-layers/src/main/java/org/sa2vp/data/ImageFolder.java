package org.sa2vp.data;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.List;

/**
 * A class-per-subfolder image collection, the layout of torchvision's {@code ImageFolder}: {@code root/<class>/...}
 * with the classes being the sorted subfolder names (label = index in that order) and every PNG, JPEG, BMP or GIF
 * below a class folder (recursively, sorted by path) one image of that class, as {@link ImageSources#folder} lists
 * it. Other files are ignored. Decoded whole into memory (small sets); {@link StreamedImages} streams large ones.
 *
 * @param images     {@code [N, C, H, W]} float32 in [0, 1], labels = class indices
 * @param classNames the subfolder names in label order
 */
public record ImageFolder(InMemoryImages images, List<String> classNames) {

    public ImageFolder {
        classNames = List.copyOf(classNames);
    }

    /** The images as squares {@code [N, channels, size, size]}; see {@link #read(Path, int, int, int)}. */
    public static ImageFolder read(Path root, int channels, int size) {
        return read(root, channels, size, size);
    }

    /**
     * Decodes every image: transparent pixels on white, converted to {@code channels} (1 grey by luminance, 3 RGB)
     * and resized bilinearly to {@code height × width}.
     *
     * @throws IllegalArgumentException naming the folder when it is missing or has fewer than two class
     *                                  subfolders, or the class subfolder that holds no image
     */
    public static ImageFolder read(Path root, int channels, int height, int width) {
        ImageList list = ImageSources.folder(root);
        List<Path> files = list.files();
        int[] labels = list.labels();
        List<String> classNames = list.classNames();
        int imageLength = channels * height * width;
        float[] pixels = new float[files.size() * imageLength];
        for (int i = 0; i < files.size(); i++) {
            System.arraycopy(ImageFiles.read(files.get(i), channels, height, width), 0, pixels, i * imageLength,
                    imageLength);
        }
        InMemoryImages images = new InMemoryImages(Nd4j.create(pixels,
                new long[]{files.size(), channels, height, width}, DataType.FLOAT),
                labels, classNames.size());
        return new ImageFolder(images, classNames);
    }
}
