package org.sa2vp.data;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A task folder in the VTAB-1k layout the VPT, NOAH and SA2VP code reads: list files {@code train800.txt},
 * {@code val200.txt}, {@code train800val200.txt} and {@code test.txt}, one image per line as
 * {@code <path relative to the folder> <integer label>}, e.g. {@code images/train_00012.png 3}. The class count is the
 * largest label in any of the list files + 1, so a split lacking a class still gets the task's full one-hot width.
 * List files are read when the task is opened (by {@link ImageSources}, the one reader of the format), images
 * when a split is asked for: whole, into memory, for the small mini-VTAB sets; {@link StreamedImages} decodes
 * large splits batch by batch.
 */
public final class VtabTask {

    /** One list-file line: an image and its class. */
    public record Entry(Path image, int label) {
    }

    private final Path folder;
    private final Map<VtabSplit, List<Entry>> lists;
    private final int numClasses;

    private VtabTask(Path folder, Map<VtabSplit, List<Entry>> lists, int numClasses) {
        this.folder = folder;
        this.lists = lists;
        this.numClasses = numClasses;
    }

    /**
     * Reads the list files present in {@code folder} (at least one).
     *
     * @throws IllegalArgumentException naming the folder when it holds no list file, or the file and line of a line
     *                                  that is not {@code <path> <label ≥ 0>}
     */
    public static VtabTask open(Path folder) {
        if (!Files.isDirectory(folder)) {
            throw new IllegalArgumentException("VTAB task folder " + folder + " not found");
        }
        Map<VtabSplit, List<Entry>> lists = new EnumMap<>(VtabSplit.class);
        int maxLabel = -1;
        for (VtabSplit split : VtabSplit.values()) {
            if (Files.isRegularFile(folder.resolve(split.fileName()))) {
                List<Entry> entries = ImageSources.readVtabList(folder, split, 0);
                lists.put(split, entries);
                for (Entry entry : entries) {
                    maxLabel = Math.max(maxLabel, entry.label());
                }
            }
        }
        if (lists.isEmpty()) {
            throw new IllegalArgumentException("no VTAB-1k list file (" + VtabSplit.TRAIN800.fileName() + ", "
                    + VtabSplit.VAL200.fileName() + ", " + VtabSplit.TRAIN800VAL200.fileName() + ", "
                    + VtabSplit.TEST.fileName() + ") in " + folder);
        }
        return new VtabTask(folder, lists, maxLabel + 1);
    }

    public Path folder() {
        return folder;
    }

    /** Largest label of all list files + 1. */
    public int numClasses() {
        return numClasses;
    }

    /** Whether the folder has this split's list file. */
    public boolean has(VtabSplit split) {
        return lists.containsKey(split);
    }

    /** The lines of a split's list file, images resolved against the task folder. */
    public List<Entry> entries(VtabSplit split) {
        List<Entry> entries = lists.get(split);
        if (entries == null) {
            throw new IllegalArgumentException("list file " + folder.resolve(split.fileName()) + " not found");
        }
        return Collections.unmodifiableList(entries);
    }

    /** A split as square images {@code [N, channels, size, size]}; see {@link #split(VtabSplit, int, int, int)}. */
    public InMemoryImages split(VtabSplit split, int channels, int size) {
        return split(split, channels, size, size);
    }

    /**
     * Decodes a split's images in list order: {@code [N, channels, height, width]} float32 in [0, 1], transparent
     * pixels on white, converted to {@code channels} (1 grey, 3 RGB) and resized bilinearly to
     * {@code height × width}; labels from the list file, {@link #numClasses()} classes.
     *
     * @throws IllegalArgumentException naming the path of a missing list file or image
     */
    public InMemoryImages split(VtabSplit split, int channels, int height, int width) {
        List<Entry> entries = entries(split);
        int imageLength = channels * height * width;
        float[] pixels = new float[entries.size() * imageLength];
        int[] labels = new int[entries.size()];
        for (int i = 0; i < entries.size(); i++) {
            Entry entry = entries.get(i);
            System.arraycopy(ImageFiles.read(entry.image(), channels, height, width), 0, pixels, i * imageLength,
                    imageLength);
            labels[i] = entry.label();
        }
        return new InMemoryImages(Nd4j.create(pixels, new long[]{entries.size(), channels, height, width},
                DataType.FLOAT), labels, numClasses);
    }
}
