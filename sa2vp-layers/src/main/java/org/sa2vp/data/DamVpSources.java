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
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Three of the HTA benchmark's datasets in the files DAM-VP's loaders read (the layout the SA2VP paper follows for
 * HTA), listed without decoding: DTD's partition-1 label lists, Food-101's {@code meta/*.json} and GTSRB's training
 * folders with the test CSV. Each has the splits {@code train}, {@code val} and {@code test}.
 *
 * <p>Where DAM-VP carves its validation split out of the official training set (Food-101, GTSRB), it shuffles with
 * Python's random generator once per split object, so its "val" images are largely also training images. Here the
 * carving is deterministic and disjoint: Food-101 holds out every fifth image of each class in the JSON's order;
 * GTSRB holds out every fifth physical sign (track), since a track's 30 frames are near-duplicates. Both keep
 * DAM-VP's 80/20 proportions; {@code test} is the official test set, as in DAM-VP.
 */
final class DamVpSources {

    /** The splits of these layouts. */
    static final List<String> SPLITS = List.of("train", "val", "test");

    /** One in {@code HOLD_OUT} training images (Food-101) or tracks (GTSRB) is a validation one: DAM-VP's 20 %. */
    private static final int HOLD_OUT = 5;

    private DamVpSources() {
    }

    /** Whether {@code directory} holds DTD's label lists: {@code labels/train1.txt} and {@code images/}. */
    static boolean isDtd(Path directory) {
        return Files.isRegularFile(directory.resolve("labels/train1.txt")) && Files.isDirectory(directory.resolve("images"));
    }

    /** Whether {@code directory} holds Food-101's {@code meta/train.json}. */
    static boolean isFood101(Path directory) {
        return Files.isRegularFile(directory.resolve("meta/train.json"));
    }

    /** Whether {@code directory} holds GTSRB's {@code GTSRB/Training} folders. */
    static boolean isGtsrb(Path directory) {
        return Files.isDirectory(directory.resolve("GTSRB/Training"));
    }

    /**
     * A split of DTD (partition 1, DAM-VP's): {@code labels/<split>1.txt} lists {@code <class>/<image>} paths under
     * {@code images/}; the classes are the sorted class folders named in the partition's lists.
     *
     * @throws IllegalArgumentException naming the missing list, the line without a class folder or the missing image
     */
    static ImageList dtd(Path directory, String split) {
        requireSplit(split, directory);
        TreeSet<String> classes = new TreeSet<>();
        List<String> lines = null;
        for (String s : SPLITS) {
            Path list = directory.resolve("labels").resolve(s + "1.txt");
            if (!Files.isRegularFile(list)) {
                if (s.equals(split)) {
                    throw new IllegalArgumentException("DTD split file " + list + " not found");
                }
                continue;
            }
            List<String> entries = readLines(list).stream().map(String::strip).filter(l -> !l.isEmpty()).toList();
            for (String entry : entries) {
                int slash = entry.indexOf('/');
                if (slash <= 0) {
                    throw new IllegalArgumentException(list + ": '" + entry + "' is not <class>/<image>");
                }
                classes.add(entry.substring(0, slash));
            }
            if (s.equals(split)) {
                lines = entries;
            }
        }
        List<String> classNames = new ArrayList<>(classes);
        List<Path> files = new ArrayList<>(lines.size());
        int[] labels = new int[lines.size()];
        for (int i = 0; i < lines.size(); i++) {
            String entry = lines.get(i);
            files.add(existing(directory.resolve("images").resolve(entry), directory.resolve("labels")
                    .resolve(split + "1.txt") + ":" + (i + 1)));
            labels[i] = classNames.indexOf(entry.substring(0, entry.indexOf('/')));
        }
        return new ImageList(files, labels, classNames, directory.resolve("labels").resolve(split + "1.txt")
                .toString());
    }

    /**
     * A split of Food-101: {@code meta/train.json} (train and val) or {@code meta/test.json} (test), each
     * {@code {"<class>": ["<class>/<id>", ...]}} with images at {@code images/<class>/<id>.jpg}; the classes are the
     * file's keys, sorted.
     *
     * @throws IllegalArgumentException naming the file and key of anything that does not fit, or a missing image
     */
    static ImageList food101(Path directory, String split) {
        requireSplit(split, directory);
        Path json = directory.resolve("meta").resolve(split.equals("test") ? "test.json" : "train.json");
        if (!Files.isRegularFile(json)) {
            throw new IllegalArgumentException("Food-101 split file " + json + " not found");
        }
        JsonNode root;
        try {
            root = ConfigSupport.mapper().readTree(json.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(json + ": not JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(json + ": expected {\"<class>\": [\"<class>/<id>\", ...]}");
        }
        TreeMap<String, JsonNode> byClass = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isArray()) {
                throw new IllegalArgumentException(json + ": key '" + e.getKey() + "' must list image ids, got "
                        + e.getValue().getNodeType());
            }
            byClass.put(e.getKey(), e.getValue());
        }
        List<String> classNames = new ArrayList<>(byClass.keySet());
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int c = 0; c < classNames.size(); c++) {
            JsonNode ids = byClass.get(classNames.get(c));
            for (int i = 0; i < ids.size(); i++) {
                if (!split.equals("test") && (i % HOLD_OUT == HOLD_OUT - 1) != split.equals("val")) {
                    continue;
                }
                files.add(existing(directory.resolve("images").resolve(ids.get(i).asText() + ".jpg"),
                        json + ", key '" + classNames.get(c) + "'"));
                labels.add(c);
            }
        }
        return new ImageList(files, labels.stream().mapToInt(Integer::intValue).toArray(), classNames,
                json + (split.equals("test") ? "" : " (" + split + ")"));
    }

    /**
     * A split of GTSRB: train and val from {@code GTSRB/Training/<class>/<track>_<frame>.ppm} (the classes are the
     * sorted class folders), test from {@code GTSRB/Final_Test/Images} labelled by {@code GT-final_test.csv}
     * ({@code ;}-separated with the columns {@code Filename} and {@code ClassId}).
     *
     * @throws IllegalArgumentException naming the file and line of anything that does not fit, or a missing image
     */
    static ImageList gtsrb(Path directory, String split) {
        requireSplit(split, directory);
        Path training = directory.resolve("GTSRB/Training");
        List<Path> classFolders = ImageSources.subfolders(training);
        List<String> classNames = classFolders.stream().map(p -> p.getFileName().toString()).toList();
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        if (split.equals("test")) {
            Path csv = directory.resolve("GT-final_test.csv");
            if (!Files.isRegularFile(csv)) {
                throw new IllegalArgumentException("GTSRB test labels " + csv + " not found");
            }
            List<String> lines = readLines(csv);
            List<String> header = lines.isEmpty() ? List.of() : Arrays.asList(lines.get(0).strip().split(";"));
            int file = header.indexOf("Filename"), classId = header.indexOf("ClassId");
            if (file < 0 || classId < 0) {
                throw new IllegalArgumentException(csv + ": the header must name the columns Filename and ClassId, "
                        + "got '" + (lines.isEmpty() ? "" : lines.get(0).strip()) + "'");
            }
            for (int i = 1; i < lines.size(); i++) {
                if (lines.get(i).isBlank()) {
                    continue;
                }
                String[] fields = lines.get(i).strip().split(";");
                int label = fields.length > Math.max(file, classId) ? ImageSources.parseLabel(fields[classId]) : -1;
                if (label < 0 || label >= classNames.size()) {
                    throw new IllegalArgumentException(csv + ":" + (i + 1) + ": expected a ClassId in [0, "
                            + classNames.size() + ") (the training folders' classes), got '" + lines.get(i).strip()
                            + "'");
                }
                files.add(existing(directory.resolve("GTSRB/Final_Test/Images").resolve(fields[file]),
                        csv + ":" + (i + 1)));
                labels.add(label);
            }
            return new ImageList(files, labels.stream().mapToInt(Integer::intValue).toArray(), classNames,
                    csv.toString());
        }
        for (int c = 0; c < classFolders.size(); c++) {
            for (Path image : ImageSources.sorted(classFolders.get(c), 1)) {
                String name = image.getFileName().toString();
                if (!name.toLowerCase(Locale.ROOT).endsWith(".ppm")) {
                    continue;
                }
                int underscore = name.indexOf('_');
                int track = underscore > 0 ? ImageSources.parseLabel(name.substring(0, underscore)) : -1;
                if (track < 0) {
                    throw new IllegalArgumentException(image + ": expected GTSRB's <track>_<frame>.ppm name");
                }
                if ((track % HOLD_OUT == HOLD_OUT - 1) == split.equals("val")) {
                    files.add(image);
                    labels.add(c);
                }
            }
        }
        return new ImageList(files, labels.stream().mapToInt(Integer::intValue).toArray(), classNames,
                training + " (" + split + ")");
    }

    private static void requireSplit(String split, Path directory) {
        if (!SPLITS.contains(split)) {
            throw new IllegalArgumentException("no split '" + split + "' in " + directory + "; it has the splits "
                    + SPLITS);
        }
    }

    private static Path existing(Path image, String listedIn) {
        if (!Files.isRegularFile(image)) {
            throw new IllegalArgumentException("image " + image + " (" + listedIn + ") not found");
        }
        return image;
    }

    private static List<String> readLines(Path file) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }
}
