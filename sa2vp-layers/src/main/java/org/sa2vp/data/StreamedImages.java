package org.sa2vp.data;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An image split on disk that decodes only the images a batch asks for ({@link ImageDecoder}: DataVec's
 * {@code NativeImageLoader}) and runs them through an {@link ImagePreprocessing}, so memory is one batch
 * {@code [B, C, H, W]} whatever the split's size; what it holds per image is the file path and label
 * ({@link ImageList}). {@link #open} is the entry point: a dataset directory, a split name, the preprocessing and
 * the strictness.
 *
 * <p>Corrupt images (bytes no decoder reads): in strict mode the batch that meets one fails, naming the file.
 * Otherwise the file is named once in the log and counted ({@link #skippedImages()}); a training batch replaces it,
 * with its label, by the next readable image of the list (wrapping around), and an evaluation batch leaves it out.
 * The replacement depends only on the files, so training batches keep their shape and a resumed run sees the same
 * pixels and labels as an uninterrupted one. Checking is lazy (a file is
 * decoded only when a batch needs it), so opening a split of a million images costs one directory listing.
 *
 * <p>Training batches ({@link #batch(int[], int)}) apply the random crop and flip of the preprocessing, drawn from
 * (seed, epoch, index); evaluation batches ({@link #batch(int[])}) are deterministic. A file that cannot be read
 * at all (gone, or an I/O error) fails the batch with one line instead of being replaced: the next attempt may read
 * it, and a replacement would make a resumed run differ. Not thread-safe.
 */
public final class StreamedImages implements LabelledImages {

    private static final Logger LOG = LoggerFactory.getLogger(StreamedImages.class);

    private final ImageList list;
    private final ImagePreprocessing preprocessing;
    private final boolean strict;
    private final ImageDecoder decoder = new ImageDecoder();
    /** Unreadable image index → why; stays as small as the number of corrupt files. */
    private final Map<Integer, String> unreadable = new ConcurrentHashMap<>();

    private StreamedImages(ImageList list, ImagePreprocessing preprocessing, boolean strict) {
        this.list = list;
        this.preprocessing = preprocessing.validated();
        this.strict = strict;
    }

    /**
     * The split {@code split} of the dataset in {@code directory}, whichever layout it has (FGVC JSON, VTAB-1k list
     * files, or an image folder {@code directory/<split>/<class>/...}; see {@link ImageSources#detect}), listed and
     * checked now, decoded batch by batch.
     *
     * @param preprocessing e.g. {@link ImagePreprocessing#vtab1k()} or {@link ImagePreprocessing#fgvc()}
     * @param strict        fail on a corrupt image instead of replacing it
     * @throws IllegalArgumentException in one line, before any decoding, for a missing split or image file, a bad
     *                                  list line or JSON value, an empty class folder, fewer than two classes
     */
    public static StreamedImages open(Path directory, String split, ImagePreprocessing preprocessing, boolean strict) {
        return of(ImageSources.detect(directory, split), preprocessing, strict);
    }

    /** An already listed split; see {@link #open}. */
    public static StreamedImages of(ImageList list, ImagePreprocessing preprocessing, boolean strict) {
        return new StreamedImages(list, preprocessing, strict);
    }

    @Override
    public int size() {
        return list.size();
    }

    @Override
    public int[] labels() {
        return list.labels();
    }

    /**
     * A digest of the list (every file's path relative to the folder all of them lie in, its size and label, in
     * order) and of the preprocessing: cheap, as it decodes nothing; the same for the dataset named by another path
     * or moved elsewhere, different when an image is added, removed, replaced by a file of another size or
     * relabelled, or when the images would be preprocessed differently.
     */
    @Override
    public String fingerprint() {
        List<Path> files = list.files().stream().map(f -> f.toAbsolutePath().normalize()).toList();
        Path root = files.get(0).getParent();
        for (Path file : files) {
            while (root != null && !file.startsWith(root)) {
                root = root.getParent();
            }
        }
        java.security.MessageDigest digest = Fingerprints.sha256();
        Fingerprints.update(digest, preprocessing.toJson());
        Fingerprints.update(digest, list.labels());
        for (Path file : files) {
            long size;
            try {
                size = java.nio.file.Files.size(file);
            } catch (IOException e) {
                size = -1;
            }
            String relative = (root == null ? file : root.relativize(file)).toString().replace('\\', '/');
            Fingerprints.update(digest, relative + "\t" + size);
        }
        return Fingerprints.hex(digest);
    }

    /** Number of classes of the task (one-hot width). */
    public int numClasses() {
        return list.numClasses();
    }

    /** The class names in label order. */
    public List<String> classNames() {
        return list.classNames();
    }

    /** The listing this set decodes. */
    public ImageList list() {
        return list;
    }

    public ImagePreprocessing preprocessing() {
        return preprocessing;
    }

    /** Number of distinct unreadable images met so far (each replaced by the next readable one). */
    public int skippedImages() {
        return unreadable.size();
    }

    /** Evaluation batch: centre crop, no flip; unreadable images left out (so it may hold fewer images). */
    @Override
    public Batch batch(int[] indices) {
        return read(indices, false, 0);
    }

    /** Training batch of (0-based) {@code epoch}: the random crop and flip of the preprocessing. */
    @Override
    public Batch batch(int[] indices, int epoch) {
        return read(indices, true, epoch);
    }

    /**
     * The images at {@code indices}. Training replaces an unreadable image by the next readable one (batches keep
     * their size and a resumed run its data); evaluation leaves it out, rather than count a replacement under the
     * replacement's label.
     */
    private Batch read(int[] indices, boolean train, int epoch) {
        List<INDArray> inputs = new java.util.ArrayList<>(indices.length);
        int[] labels = new int[indices.length];
        for (int index : indices) {
            if (index < 0 || index >= list.size()) {
                throw new IndexOutOfBoundsException("image " + index + " of " + list.size());
            }
            int used = index;
            INDArray decoded = decode(used);
            if (decoded == null && !train) {
                continue;
            }
            while (decoded == null) {
                used = (used + 1) % list.size();
                if (used == index) {
                    throw new IllegalArgumentException(list.source() + ": no image of the " + list.size()
                            + " is readable (first: " + list.files().get(index) + ": " + unreadable.get(index) + ")");
                }
                decoded = decode(used);
            }
            // The random draws follow the requested index, so they do not depend on which files are corrupt.
            inputs.add(preprocessing.apply(decoded, train, epoch, index));
            labels[inputs.size() - 1] = list.label(used);
        }
        INDArray images = Nd4j.create(DataType.FLOAT, inputs.size(), preprocessing.getChannels(),
                preprocessing.outputHeight(), preprocessing.outputWidth());
        for (int i = 0; i < inputs.size(); i++) {
            INDArray input = inputs.get(i);
            images.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all())
                    .assign(input.reshape(input.size(1), input.size(2), input.size(3)));
        }
        return new Batch(images, java.util.Arrays.copyOf(labels, inputs.size()));
    }

    /** Image {@code index} decoded, or null when it is unreadable (remembered, logged once; thrown when strict). */
    private INDArray decode(int index) {
        if (unreadable.containsKey(index)) {
            return null;
        }
        Path file = list.files().get(index);
        byte[] bytes;
        try {
            bytes = java.nio.file.Files.readAllBytes(file);
        } catch (IOException e) {
            // Not the image's fault (a vanished file, a network file system, an interrupted read): failing now
            // keeps a resumed run exact, where replacing the image would change what it trains on.
            throw new java.io.UncheckedIOException("cannot read image " + file + " (" + list.source() + ", index "
                    + index + "): " + e.getMessage(), e);
        }
        try {
            return decoder.decode(bytes, preprocessing.getChannels());
        } catch (IOException | RuntimeException e) {
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            if (strict) {
                throw new IllegalArgumentException("image " + file + " (" + list.source() + ", index " + index
                        + ") is unreadable: " + reason, e);
            }
            unreadable.put(index, reason);
            LOG.warn("image {} ({}, index {}) is unreadable ({}); using the next readable image instead ({} skipped "
                    + "so far)", file, list.source(), index, reason, unreadable.size());
            return null;
        }
    }
}
