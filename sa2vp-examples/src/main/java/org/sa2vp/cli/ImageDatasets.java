package org.sa2vp.cli;

import org.sa2vp.backbone.Backbone;
import org.sa2vp.data.ImagePreprocessing;
import org.sa2vp.data.ImageSources;
import org.sa2vp.data.StreamedImages;
import org.sa2vp.data.VtabSplit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
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

    /**
     * The layouts {@link ImageSources} lists, told apart by the files at the top of the directory, each with its
     * default splits (null: none).
     */
    enum Layout {
        /** {@code train.json}, {@code val.json}, {@code test.json}: the authors' FGVC protocol. */
        FGVC_JSON("FGVC JSON splits", "train", "val", "test"),
        /**
         * VTAB-1k list files: the paper's final protocol trains on train800val200 and reports test; train800 with
         * val200 is for choosing hyper-parameters.
         */
        VTAB_LISTS("VTAB-1k list files", "train800val200", null, "test"),
        /** {@code DIR/<split>/<class>/<image>}. */
        SPLIT_FOLDERS("split folders", "train", "val", "test"),
        /** {@code DIR/<class>/<image>} with no split folders: all of it is one split. */
        CLASS_FOLDER("one image folder DIR/<class>/<image>", null, null, null);

        final String description;
        /** Default splits; null for the training split of {@link #CLASS_FOLDER} means the whole folder. */
        final String train, validation, test;

        Layout(String description, String train, String validation, String test) {
            this.description = description;
            this.train = train;
            this.validation = validation;
            this.test = test;
        }
    }

    /** The FGVC split files {@link ImageSources#fgvc} reads (it keeps its list private). */
    private static final List<String> FGVC_FILES = List.of("train.json", "val.json", "test.json");

    private ImageDatasets() {
    }

    /**
     * The layout of {@code directory}, detected as {@link ImageSources#detect} does (FGVC JSON first, then VTAB-1k
     * lists, then folders); folders are split folders when one of {@code train}, {@code val}, {@code test} is there.
     *
     * @throws IllegalArgumentException when the directory is missing
     */
    static Layout detect(Path directory) {
        if (!Files.isDirectory(directory)) {
            throw new IllegalArgumentException("dataset directory " + directory + " not found");
        }
        if (FGVC_FILES.stream().anyMatch(name -> Files.isRegularFile(directory.resolve(name)))) {
            return Layout.FGVC_JSON;
        }
        if (Arrays.stream(VtabSplit.values()).anyMatch(s -> Files.isRegularFile(directory.resolve(s.fileName())))) {
            return Layout.VTAB_LISTS;
        }
        Layout folders = Layout.SPLIT_FOLDERS;
        if (java.util.stream.Stream.of(folders.train, folders.validation, folders.test)
                .anyMatch(name -> Files.isDirectory(directory.resolve(name)))) {
            return Layout.SPLIT_FOLDERS;
        }
        return Layout.CLASS_FOLDER;
    }

    /** Whether the default validation split of {@code layout} is present in {@code directory}. */
    static boolean hasDefaultValidation(Path directory, Layout layout) {
        return switch (layout) {
            case FGVC_JSON -> Files.isRegularFile(directory.resolve(layout.validation + ".json"));
            case SPLIT_FOLDERS -> Files.isDirectory(directory.resolve(layout.validation));
            case VTAB_LISTS, CLASS_FOLDER -> false;
        };
    }

    /**
     * Split {@code split} of the dataset, or the whole folder when {@code split} is null (a {@link
     * Layout#CLASS_FOLDER}), listed now and decoded batch by batch.
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
}
