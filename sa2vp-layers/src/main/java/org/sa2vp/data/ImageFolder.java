package org.sa2vp.data;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A class-per-subfolder image collection, the layout of torchvision's {@code ImageFolder}: {@code root/<class>/...}
 * with the classes being the sorted subfolder names (label = index in that order) and every PNG, JPEG, BMP or GIF
 * below a class folder (recursively, sorted by path) one image of that class. Other files are ignored.
 *
 * @param images     {@code [N, C, H, W]} float32 in [0, 1], labels = class indices
 * @param classNames the subfolder names in label order
 */
public record ImageFolder(InMemoryImages images, List<String> classNames) {

    private static final Set<String> EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp", "gif");

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
     * @throws IllegalArgumentException naming the folder when it is missing, has no class subfolder, or a class
     *                                  subfolder holds no image
     */
    public static ImageFolder read(Path root, int channels, int height, int width) {
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException("image folder " + root + " not found");
        }
        List<Path> classFolders = sorted(root, 1).stream().filter(Files::isDirectory).toList();
        if (classFolders.isEmpty()) {
            throw new IllegalArgumentException(root + " has no class subfolders (expected root/<class>/<image>)");
        }
        List<String> classNames = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (Path classFolder : classFolders) {
            List<Path> classImages = sorted(classFolder, Integer.MAX_VALUE).stream()
                    .filter(file -> Files.isRegularFile(file) && EXTENSIONS.contains(extension(file))).toList();
            if (classImages.isEmpty()) {
                throw new IllegalArgumentException("class folder " + classFolder + " holds no PNG, JPEG, BMP or GIF "
                        + "image");
            }
            for (Path file : classImages) {
                files.add(file);
                labels.add(classNames.size());
            }
            classNames.add(classFolder.getFileName().toString());
        }
        int imageLength = channels * height * width;
        float[] pixels = new float[files.size() * imageLength];
        for (int i = 0; i < files.size(); i++) {
            System.arraycopy(ImageFiles.read(files.get(i), channels, height, width), 0, pixels, i * imageLength,
                    imageLength);
        }
        InMemoryImages images = new InMemoryImages(Nd4j.create(pixels,
                new long[]{files.size(), channels, height, width}, DataType.FLOAT),
                labels.stream().mapToInt(Integer::intValue).toArray(), classNames.size());
        return new ImageFolder(images, classNames);
    }

    /** Entries below {@code folder} up to {@code depth} levels, sorted by their path relative to it. */
    private static List<Path> sorted(Path folder, int depth) {
        try (Stream<Path> walk = Files.walk(folder, depth)) {
            return walk.filter(path -> !path.equals(folder))
                    .sorted((a, b) -> folder.relativize(a).toString().compareTo(folder.relativize(b).toString()))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(folder + ": " + e.getMessage(), e);
        }
    }

    private static String extension(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
    }
}
