package org.sa2vp.data;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * One split of an image dataset as listed on disk, nothing decoded: image files in the split's order, one class
 * index per file, and the task's class names (label {@code i} is {@code classNames.get(i)}; the task may have
 * classes this split lacks). {@link ImageSources} lists the supported layouts; {@link StreamedImages} decodes
 * batches of it.
 *
 * @param files      image files, absolute or relative to the working directory
 * @param labels     one class index in {@code [0, classNames.size())} per file
 * @param classNames the task's classes in label order (at least two)
 * @param source     what was listed, for messages (e.g. {@code "/data/cub/train.json"})
 */
public record ImageList(List<Path> files, int[] labels, List<String> classNames, String source) {

    public ImageList {
        files = List.copyOf(files);
        labels = labels.clone();
        classNames = List.copyOf(classNames);
        if (files.size() != labels.length) {
            throw new IllegalArgumentException(source + ": " + files.size() + " files but " + labels.length
                    + " labels");
        }
        if (classNames.size() < 2) {
            throw new IllegalArgumentException(source + ": " + classNames.size() + " class" + (classNames.size() == 1
                    ? " " + classNames : "es") + ", a classification task needs at least two");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classNames.size()) {
                throw new IllegalArgumentException(source + ": label " + labels[i] + " of " + files.get(i)
                        + " outside the " + classNames.size() + " classes [0, " + classNames.size() + ")");
            }
        }
    }

    /** Number of images. */
    public int size() {
        return labels.length;
    }

    /** Number of classes of the task. */
    public int numClasses() {
        return classNames.size();
    }

    /** The class index of image {@code index}. */
    public int label(int index) {
        return labels[index];
    }

    @Override
    public int[] labels() {
        return labels.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ImageList list && files.equals(list.files) && Arrays.equals(labels, list.labels)
                && classNames.equals(list.classNames) && source.equals(list.source);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * files.hashCode() + Arrays.hashCode(labels)) + classNames.hashCode();
    }

    @Override
    public String toString() {
        return source + " (" + size() + " images, " + numClasses() + " classes)";
    }
}
