package org.sa2vp.cli;

import org.sa2vp.backbone.Backbone;
import org.sa2vp.data.ImagePreprocessing;
import org.sa2vp.data.ImageSources;
import org.sa2vp.data.LabelledImages;
import org.sa2vp.data.StreamedImages;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Image datasets as the commands open them: which layout a {@code --data} directory has and which splits each
 * layout trains, validates and tests on by default, and the two files a run keeps next to its adapter so that
 * {@code eval} and {@code predict} see images as training did ({@value #PREPROCESSING}, {@value #CLASSES}).
 */
final class ImageDatasets {

    /** The preprocessing a run used, {@link ImagePreprocessing#toJson()}, in the run folder. */
    static final String PREPROCESSING = ImagePreprocessing.FILE;
    /** The class names of a run in label order, one a line, in the run folder. */
    static final String CLASSES = "classes.txt";

    private ImageDatasets() {
    }

    /**
     * Split {@code split} of the dataset, or the whole folder when {@code split} is null (a {@link
     * ImageSources.Layout#CLASS_FOLDER}), listed now and decoded batch by batch.
     */
    static StreamedImages open(Path directory, String split, ImagePreprocessing preprocessing, boolean strict) {
        return split == null ? StreamedImages.of(ImageSources.folder(directory), preprocessing, strict)
                : StreamedImages.open(directory, split, preprocessing, strict);
    }

    /** {@code split}, or "all of DIR" for the whole folder, for messages. */
    static String describe(String split) {
        return split == null ? "all images" : split;
    }

    /**
     * The preprocessing recorded next to {@code adapter} ({@value #PREPROCESSING}), else the vtab1k preset sized to
     * the backbone's input.
     */
    static ImagePreprocessing preprocessingNextTo(Path adapter, Backbone model) {
        return ImagePreprocessing.recordedNextTo(adapter, ImagePreprocessing.preset(ImageDataOptions.DEFAULT_PRESET)
                .forInput(model.getInChannels(), model.getImageHeight(), model.getImageWidth()));
    }

    /**
     * Class names in label order: from {@code file} when given, else {@value #CLASSES} next to {@code adapter}
     * when present, else null (class indices).
     *
     * @throws IllegalArgumentException when the names are not one per class
     */
    static List<String> classNames(Path file, Path adapter, int numClasses) {
        Path source = file != null ? file : sibling(adapter, CLASSES);
        if (file == null && !Files.isRegularFile(source)) {
            return null;
        }
        List<String> names;
        try {
            names = Files.readAllLines(source, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank())
                    .map(String::strip).toList();
        } catch (IOException e) {
            throw new IllegalArgumentException(source + ": cannot read class names (" + e.getMessage() + ")", e);
        }
        if (names.size() != numClasses) {
            throw new IllegalArgumentException(source + ": " + names.size() + " class names, but the model has "
                    + numClasses + " classes");
        }
        return names;
    }

    /** Creates a folder and its parents; one-line error naming it. */
    static void createDirectories(Path folder) {
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + folder + ": " + e.getMessage(), e);
        }
    }

    /** Writes {@value #PREPROCESSING} and, when known, {@value #CLASSES} into a run folder. */
    static void writeRunFiles(Path runFolder, ImagePreprocessing preprocessing, List<String> classNames) {
        createDirectories(runFolder);
        try {
            Files.writeString(runFolder.resolve(PREPROCESSING), preprocessing.toJson(), StandardCharsets.UTF_8);
            if (classNames != null) {
                Files.writeString(runFolder.resolve(CLASSES), String.join("\n", classNames) + "\n",
                        StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write into " + runFolder + ": " + e.getMessage(), e);
        }
    }

    private static Path sibling(Path file, String name) {
        Path parent = file.toAbsolutePath().getParent();
        return parent == null ? Path.of(name) : parent.resolve(name);
    }

    /**
     * One line on stdout counting the corrupt images of the sets, when any (null sets are skipped): training
     * replaced them, evaluation left them out.
     */
    static void printSkipped(LabelledImages... sets) {
        int skipped = 0;
        for (LabelledImages set : sets) {
            if (set instanceof StreamedImages streamed) {
                skipped += streamed.skippedImages();
            }
        }
        if (skipped > 0) {
            System.out.printf("%d unreadable image%s skipped (replaced by the next readable one in training, left "
                    + "out of evaluations; --strict makes them an error)%n", skipped, skipped == 1 ? "" : "s");
        }
    }
}
