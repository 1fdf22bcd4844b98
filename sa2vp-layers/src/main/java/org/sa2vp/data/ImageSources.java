package org.sa2vp.data;

import org.nd4j.shade.jackson.databind.JsonNode;
import org.sa2vp.config.ConfigSupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Lists the splits of an image dataset on disk without decoding any image ({@link ImageList}), in the three layouts
 * the VPT / SA2VP code reads (and, through {@link DamVpSources}, three of DAM-VP's HTA datasets), and detects which one a directory holds. Every check that needs no pixels (missing
 * split or image file, unparsable line, label out of range, empty class) fails here, in one line naming the file.
 * <ul>
 * <li><b>Image folder</b> ({@link #folder}), torchvision's {@code ImageFolder}: {@code root/<class>/<image>}, the
 * classes being the subfolder names sorted by {@link String#compareTo} (label = position in that order, what
 * Python's {@code sorted} gives for names without surrogate pairs), each class's images found recursively and sorted
 * by their path relative to the class folder.</li>
 * <li><b>VTAB-1k list files</b> ({@link #vtab}): {@code train800.txt}, {@code val200.txt},
 * {@code train800val200.txt}, {@code test.txt} in the task directory, one {@code <relative path> <label>} per
 * line; the class count is the largest label of all list files + 1 unless given.</li>
 * <li><b>FGVC JSON splits</b> ({@link #fgvc}), VPT's {@code JSONDataset}: {@code <split>.json} in the dataset
 * directory, one JSON object {@code {"<relative image path>": <class id>, ...}}.</li>
 * </ul>
 */
public final class ImageSources {

    /** File name extensions (lower case) listed as images in an image folder. */
    public static final Set<String> IMAGE_EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp", "gif");

    /** The FGVC JSON splits VPT and SA2VP read. */
    private static final List<String> FGVC_SPLITS = List.of("train", "val", "test");

    /*
     * Where FGVC image paths are relative to. VPT's JSONDataset (KMnP/vpt src/data/datasets/json_dataset.py) joins
     * each JSON key to a per-dataset image directory: <dir>/images for CUB-200-2011 and NABirds, <dir>/Images for
     * Stanford Dogs, <dir> itself for Stanford Cars and Oxford Flowers (SA2VP's FGVC_* classes prefix the keys the
     * same way). We take the first of these three under which the split's first key names a file, then require
     * every key to name a file there.
     *
     * Labels: VPT maps the sorted distinct class ids of the split's JSON to 0..K-1; SA2VP subtracts 1 (CUB, Dogs,
     * Cars, Flowers, whose ids are 1..K) or keeps the id (NABirds). We map the sorted distinct ids of all of
     * train/val/test.json present to 0..K-1, which equals both wherever each split holds every class and keeps
     * the splits aligned where one lacks a class; the class names are the ids as written.
     */
    private static final List<String> FGVC_IMAGE_DIRS = List.of("images", "Images", "");

    /**
     * The layouts this class lists, told apart by the files at the top of a dataset directory ({@link #layout}),
     * each with the splits the paper's protocols use by default (null: none).
     */
    public enum Layout {
        /** {@code train.json}, {@code val.json}, {@code test.json}: the authors' FGVC protocol. */
        FGVC_JSON("FGVC JSON splits", "train", "val", "test"),
        /**
         * VTAB-1k list files: the paper's final protocol trains on train800val200 and reports test; train800 with
         * val200 is for choosing hyper-parameters.
         */
        VTAB_LISTS("VTAB-1k list files", "train800val200", null, "test"),
        /** {@code DIR/<split>/<class>/<image>}. */
        SPLIT_FOLDERS("split folders", "train", "val", "test"),
        /** DTD's partition-1 label lists {@code labels/<split>1.txt} over {@code images/} (DAM-VP's HTA layout). */
        DTD_LISTS("DTD label lists (labels/train1.txt, images/)", "train", "val", "test"),
        /** Food-101's {@code meta/train.json} and {@code meta/test.json} over {@code images/} (DAM-VP's HTA layout). */
        FOOD101_META("Food-101 files (meta/train.json, images/)", "train", "val", "test"),
        /** GTSRB's {@code GTSRB/Training/<class>} folders and test CSV (DAM-VP's HTA layout). */
        GTSRB_FILES("GTSRB files (GTSRB/Training, GT-final_test.csv)", "train", "val", "test"),
        /**
         * CIFAR-10's {@code cifar-10-batches-py} or CIFAR-100's {@code cifar-100-python} pickles: pixel arrays, not
         * image files ({@link TorchvisionArchives#cifar}; DAM-VP's HTA layout).
         */
        CIFAR_PICKLES("CIFAR python pickles (batches.meta or meta, with the data batches)", "train", "val", "test"),
        /**
         * SVHN's {@code train_32x32.mat} and {@code test_32x32.mat}: pixel arrays, not image files
         * ({@link TorchvisionArchives#svhn}; DAM-VP's HTA layout).
         */
        SVHN_MAT("SVHN MATLAB files (train_32x32.mat, test_32x32.mat)", "train", "val", "test"),
        /** {@code DIR/<class>/<image>} with no split folders: all of it is one split. */
        CLASS_FOLDER("one image folder DIR/<class>/<image>", null, null, null);

        /** How messages name the layout. */
        public final String description;
        /** Default training split; null for {@link #CLASS_FOLDER}: the whole folder. */
        public final String train;
        /** Default validation split, or null for none. */
        public final String validation;
        /** Default test split, or null for none. */
        public final String test;

        Layout(String description, String train, String validation, String test) {
            this.description = description;
            this.train = train;
            this.validation = validation;
            this.test = test;
        }

        /** Whether this layout's default validation split is present in {@code directory}. */
        public boolean hasDefaultValidation(Path directory) {
            return switch (this) {
                case FGVC_JSON -> Files.isRegularFile(directory.resolve(validation + ".json"));
                case SPLIT_FOLDERS -> Files.isDirectory(directory.resolve(validation));
                case DTD_LISTS -> Files.isRegularFile(directory.resolve("labels/val1.txt"));
                case FOOD101_META, GTSRB_FILES, CIFAR_PICKLES, SVHN_MAT -> true;
                case VTAB_LISTS, CLASS_FOLDER -> false;
            };
        }
    }

    private ImageSources() {
    }

    /**
     * The layout of {@code directory}: FGVC JSON when it holds a JSON split, else VTAB-1k lists when it holds a list
     * file, else one of the HTA layouts DAM-VP reads ({@link DamVpSources}: DTD, Food-101, GTSRB;
     * {@link TorchvisionArchives}: CIFAR, SVHN), else split folders when one of {@code train}, {@code val},
     * {@code test} is a folder, else one class folder.
     *
     * @throws IllegalArgumentException when the directory is missing
     */
    public static Layout layout(Path directory) {
        if (!Files.isDirectory(directory)) {
            throw new IllegalArgumentException("dataset directory " + directory + " not found");
        }
        if (!fgvcSplits(directory).isEmpty()) {
            return Layout.FGVC_JSON;
        }
        if (!vtabSplits(directory).isEmpty()) {
            return Layout.VTAB_LISTS;
        }
        if (DamVpSources.isDtd(directory)) {
            return Layout.DTD_LISTS;
        }
        if (DamVpSources.isFood101(directory)) {
            return Layout.FOOD101_META;
        }
        if (DamVpSources.isGtsrb(directory)) {
            return Layout.GTSRB_FILES;
        }
        if (TorchvisionArchives.isCifar(directory)) {
            return Layout.CIFAR_PICKLES;
        }
        if (TorchvisionArchives.isSvhn(directory)) {
            return Layout.SVHN_MAT;
        }
        Layout folders = Layout.SPLIT_FOLDERS;
        return java.util.stream.Stream.of(folders.train, folders.validation, folders.test)
                .anyMatch(name -> Files.isDirectory(directory.resolve(name))) ? folders : Layout.CLASS_FOLDER;
    }

    /**
     * The split {@code split} of the dataset in {@code directory}, whichever layout it has: FGVC JSON when
     * {@code directory} holds {@code train.json}, {@code val.json} or {@code test.json}; VTAB-1k list files when it
     * holds one of {@link VtabSplit}'s files ({@code split} is {@code train800}, {@code val200},
     * {@code train800val200} or {@code test}, with or without {@code .txt}); otherwise an image folder
     * {@code directory/<split>/<class>/<image>}.
     *
     * @throws IllegalArgumentException naming the directory and the splits it has when {@code split} is not one
     */
    public static ImageList detect(Path directory, String split) {
        Layout layout = layout(directory);
        String name = split.endsWith(".json") ? split.substring(0, split.length() - 5)
                : split.endsWith(".txt") ? split.substring(0, split.length() - 4) : split;
        if (layout == Layout.FGVC_JSON) {
            return fgvc(directory, name);
        }
        if (layout == Layout.VTAB_LISTS) {
            return vtab(directory, vtabSplit(directory, name), 0);
        }
        if (layout == Layout.DTD_LISTS) {
            return DamVpSources.dtd(directory, name);
        }
        if (layout == Layout.FOOD101_META) {
            return DamVpSources.food101(directory, name);
        }
        if (layout == Layout.GTSRB_FILES) {
            return DamVpSources.gtsrb(directory, name);
        }
        if (layout == Layout.CIFAR_PICKLES || layout == Layout.SVHN_MAT) {
            throw new IllegalArgumentException(directory + " holds " + layout.description + ": pixel arrays, not "
                    + "image files; TorchvisionArchives reads them (as a benchmark run of hta/cifar-10, hta/cifar-100 "
                    + "or hta/svhn does)");
        }
        Path folder = directory.resolve(name);
        if (!Files.isDirectory(folder)) {
            List<String> folders = subfolders(directory).stream().map(path -> path.getFileName().toString()).toList();
            throw new IllegalArgumentException("no split '" + split + "' in " + directory + ": it holds no FGVC "
                    + "JSON split (" + String.join(", ", FGVC_SPLITS.stream().map(s -> s + ".json").toList())
                    + "), no VTAB-1k list file, and no folder '" + name + "' (its folders: " + folders + ")");
        }
        return folder(folder);
    }

    /**
     * An image folder {@code root/<class>/<image>} (see the class comment for the order).
     *
     * @throws IllegalArgumentException naming the folder when it is missing or has fewer than two class folders,
     *                                  or naming the class folder that holds no image
     */
    public static ImageList folder(Path root) {
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException("image folder " + root + " not found");
        }
        List<Path> classFolders = subfolders(root);
        if (classFolders.size() < 2) {
            throw new IllegalArgumentException(root + " has " + classFolders.size() + " class folder"
                    + (classFolders.size() == 1 ? "" : "s") + ", expected at least two (root/<class>/<image>)");
        }
        List<String> classNames = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (Path classFolder : classFolders) {
            List<Path> classImages = imagesBelow(classFolder);
            if (classImages.isEmpty()) {
                throw new IllegalArgumentException("class folder " + classFolder + " holds no image ("
                        + String.join(", ", new TreeSet<>(IMAGE_EXTENSIONS)) + ")");
            }
            for (Path file : classImages) {
                files.add(file);
                labels.add(classNames.size());
            }
            classNames.add(classFolder.getFileName().toString());
        }
        return new ImageList(files, labels.stream().mapToInt(Integer::intValue).toArray(), classNames,
                root.toString());
    }

    /**
     * A split of a VTAB-1k task directory. The classes are named {@code "0"}, {@code "1"}, ...
     *
     * @param numClasses the task's class count, or 0 for the largest label of all list files in the directory + 1
     * @throws IllegalArgumentException naming the missing list file and the splits present, or the file and line of
     *                                  a line that does not parse, names a missing image or a label outside
     *                                  {@code [0, numClasses)}
     */
    public static ImageList vtab(Path taskDirectory, VtabSplit split, int numClasses) {
        Path listFile = taskDirectory.resolve(split.fileName());
        if (!Files.isRegularFile(listFile)) {
            throw new IllegalArgumentException("VTAB-1k list file " + listFile + " not found; " + taskDirectory
                    + " has the splits " + vtabSplits(taskDirectory));
        }
        int classes = numClasses;
        if (classes <= 0) {
            for (VtabSplit present : vtabSplits(taskDirectory)) {
                for (VtabTask.Entry entry : readVtabList(taskDirectory, present, 0)) {
                    classes = Math.max(classes, entry.label() + 1);
                }
            }
        }
        List<VtabTask.Entry> entries = readVtabList(taskDirectory, split, classes);
        List<String> classNames = new ArrayList<>();
        for (int i = 0; i < classes; i++) {
            classNames.add(Integer.toString(i));
        }
        return new ImageList(entries.stream().map(VtabTask.Entry::image).toList(),
                entries.stream().mapToInt(VtabTask.Entry::label).toArray(), classNames, listFile.toString());
    }

    /**
     * A split of an FGVC dataset directory in VPT's JSON layout (see the comment on where images and labels come
     * from).
     *
     * @param split {@code train}, {@code val} or {@code test} (any {@code <split>.json} in the directory)
     * @throws IllegalArgumentException naming the missing JSON file and the splits present, a key whose value is
     *                                  not a whole number, or an image that is not there
     */
    public static ImageList fgvc(Path directory, String split) {
        Path jsonFile = directory.resolve(split + ".json");
        if (!Files.isRegularFile(jsonFile)) {
            throw new IllegalArgumentException("FGVC split file " + jsonFile + " not found; " + directory
                    + " has the splits " + fgvcSplits(directory));
        }
        Map<String, Integer> entries = readFgvcJson(jsonFile);
        if (entries.isEmpty()) {
            throw new IllegalArgumentException(jsonFile + " lists no image");
        }
        TreeSet<Integer> ids = new TreeSet<>(entries.values());
        for (String other : fgvcSplits(directory)) {
            ids.addAll(readFgvcJson(directory.resolve(other + ".json")).values());
        }
        List<Integer> classIds = new ArrayList<>(ids);
        String firstKey = entries.keySet().iterator().next();
        Path imageDir = FGVC_IMAGE_DIRS.stream().map(directory::resolve)
                .filter(dir -> Files.isRegularFile(dir.resolve(firstKey))).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(jsonFile + ": image '" + firstKey + "' is in none of "
                        + FGVC_IMAGE_DIRS.stream().map(sub -> directory.resolve(sub).toString()).toList()));
        List<Path> files = new ArrayList<>(entries.size());
        int[] labels = new int[entries.size()];
        int i = 0;
        for (Map.Entry<String, Integer> entry : entries.entrySet()) {
            Path image = imageDir.resolve(entry.getKey());
            if (!Files.isRegularFile(image)) {
                throw new IllegalArgumentException("image " + image + " (" + jsonFile + ", key '" + entry.getKey()
                        + "') not found");
            }
            files.add(image);
            labels[i++] = classIds.indexOf(entry.getValue());
        }
        return new ImageList(files, labels, classIds.stream().map(String::valueOf).toList(), jsonFile.toString());
    }

    /**
     * The lines of a VTAB-1k list file, images resolved against the task directory: the one reader of the format
     * ({@link VtabTask} reads through it too).
     *
     * @param numClasses labels must be below it, or 0 for no upper bound
     */
    static List<VtabTask.Entry> readVtabList(Path taskDirectory, VtabSplit split, int numClasses) {
        Path listFile = taskDirectory.resolve(split.fileName());
        List<String> lines;
        try {
            lines = Files.readAllLines(listFile, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(listFile + ": " + e.getMessage(), e);
        }
        List<VtabTask.Entry> entries = new ArrayList<>(lines.size());
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            int space = Math.max(line.lastIndexOf(' '), line.lastIndexOf('\t'));
            int label = space > 0 ? parseLabel(line.substring(space + 1)) : -1;
            if (label < 0) {
                throw new IllegalArgumentException(listFile + ":" + (i + 1) + ": expected '<image path> <label >= 0>',"
                        + " got '" + line + "'");
            }
            if (numClasses > 0 && label >= numClasses) {
                throw new IllegalArgumentException(listFile + ":" + (i + 1) + ": label " + label + " outside the "
                        + numClasses + " classes [0, " + numClasses + ")");
            }
            Path image = taskDirectory.resolve(line.substring(0, space).strip());
            if (!Files.isRegularFile(image)) {
                throw new IllegalArgumentException("image " + image + " (" + listFile + ":" + (i + 1) + ") not found");
            }
            entries.add(new VtabTask.Entry(image, label));
        }
        return entries;
    }

    /** The VTAB-1k splits whose list file is in {@code directory}, in {@link VtabSplit} order. */
    static List<VtabSplit> vtabSplits(Path directory) {
        return Arrays.stream(VtabSplit.values()).filter(split -> Files.isRegularFile(directory.resolve(
                split.fileName()))).toList();
    }

    private static VtabSplit vtabSplit(Path directory, String name) {
        return Arrays.stream(VtabSplit.values())
                .filter(split -> split.fileName().equals(name + ".txt")).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no VTAB-1k split '" + name + "' in " + directory
                        + "; it has the splits " + vtabSplits(directory)));
    }

    private static List<String> fgvcSplits(Path directory) {
        return FGVC_SPLITS.stream().filter(split -> Files.isRegularFile(directory.resolve(split + ".json"))).toList();
    }

    /** The JSON object's entries in file order (as Python's json.load keeps them). */
    private static Map<String, Integer> readFgvcJson(Path jsonFile) {
        JsonNode root;
        try {
            root = ConfigSupport.mapper().readTree(jsonFile.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(jsonFile + ": not JSON: " + e.getMessage().lines().findFirst()
                    .orElse(""), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(jsonFile + ": expected a JSON object {\"<image path>\": <class id>}");
        }
        Map<String, Integer> entries = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            JsonNode value = field.getValue();
            boolean whole = value.isIntegralNumber() || (value.isTextual() && parseLabel(value.asText()) >= 0);
            if (!whole) {
                throw new IllegalArgumentException(jsonFile + ": key '" + field.getKey() + "': class id must be a "
                        + "whole number >= 0, got " + value);
            }
            entries.put(field.getKey(), value.isIntegralNumber() ? value.asInt() : parseLabel(value.asText()));
        }
        return entries;
    }

    /**
     * The image files below {@code folder} at any depth (by extension: {@link #IMAGE_EXTENSIONS}), sorted by their
     * path relative to it: the unlabelled images a folder holds, e.g. for prediction.
     *
     * @throws IllegalArgumentException when the folder is missing
     */
    public static List<Path> imagesBelow(Path folder) {
        if (!Files.isDirectory(folder)) {
            throw new IllegalArgumentException("image folder " + folder + " not found");
        }
        return sorted(folder, Integer.MAX_VALUE).stream()
                .filter(file -> Files.isRegularFile(file) && IMAGE_EXTENSIONS.contains(extension(file)))
                .toList();
    }

    static List<Path> subfolders(Path folder) {
        return sorted(folder, 1).stream().filter(Files::isDirectory).toList();
    }

    /** Entries below {@code folder} up to {@code depth} levels, sorted by their path relative to it. */
    static List<Path> sorted(Path folder, int depth) {
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

    static int parseLabel(String text) {
        try {
            return Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
