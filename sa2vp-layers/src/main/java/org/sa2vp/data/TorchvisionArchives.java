package org.sa2vp.data;

import org.sa2vp.io.MatFile;
import org.sa2vp.io.NumpyPickles;
import org.sa2vp.io.RestrictedUnpickler;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * CIFAR-10, CIFAR-100 and SVHN in the archives torchvision downloads, which DAM-VP's loaders (the HTA layout the
 * SA2VP paper follows) read: CIFAR's Python pickles ({@code cifar-10-batches-py/data_batch_1..5, test_batch,
 * batches.meta}; {@code cifar-100-python/train, test, meta}) and SVHN's MATLAB files ({@code train_32x32.mat},
 * {@code test_32x32.mat}). The pickles are read by {@link RestrictedUnpickler}, which runs no pickled code.
 *
 * <p>Splits as DAM-VP cuts them: {@code train} is the first 80 % of the official training images in file order,
 * {@code val} the remaining 20 % (disjoint, no shuffle), {@code test} the official test set. CIFAR-100's labels are
 * its 100 fine classes. SVHN's digit 0 is stored as label 10 and becomes class 0, as torchvision maps it.
 */
public final class TorchvisionArchives {

    /** The splits of these archives. */
    static final List<String> SPLITS = List.of("train", "val", "test");
    /** DAM-VP's training share of the official training set; the rest is validation. */
    private static final double TRAIN_SHARE = 0.8;
    private static final int[] CIFAR_SHAPE = {3, 32, 32};
    private static final RestrictedUnpickler PICKLES = RestrictedUnpickler.allowing(NumpyPickles.callables());

    private TorchvisionArchives() {
    }

    /** Whether {@code directory} is CIFAR-10's {@code cifar-10-batches-py} or CIFAR-100's {@code cifar-100-python}. */
    static boolean isCifar(Path directory) {
        return Files.isRegularFile(directory.resolve("batches.meta"))
                || (Files.isRegularFile(directory.resolve("meta")) && Files.isRegularFile(directory.resolve("train")));
    }

    /** Whether {@code directory} holds SVHN's {@code train_32x32.mat}. */
    static boolean isSvhn(Path directory) {
        return Files.isRegularFile(directory.resolve("train_32x32.mat"));
    }

    /**
     * A split of CIFAR-10 ({@code directory} = {@code cifar-10-batches-py}) or CIFAR-100 ({@code cifar-100-python}).
     *
     * @param split {@code train}, {@code val} or {@code test}
     * @throws IllegalArgumentException in one line, naming the file and key, for a missing file, a pickle that is not
     *                                  CIFAR's (a refused callable, a missing key, images that are not 32 × 32 × 3)
     */
    public static PixelArrayImages cifar(Path directory, String split, ImagePreprocessing preprocessing) {
        requireSplit(split, directory);
        boolean ten = Files.isRegularFile(directory.resolve("batches.meta"));
        Path metaFile = directory.resolve(ten ? "batches.meta" : "meta");
        List<String> classNames = strings(dictionary(metaFile), ten ? "label_names" : "fine_label_names", metaFile);
        List<String> files = split.equals("test") ? List.of(ten ? "test_batch" : "test")
                : ten ? IntStream.rangeClosed(1, 5).mapToObj(i -> "data_batch_" + i).toList() : List.of("train");
        List<byte[]> parts = new ArrayList<>();
        List<int[]> partLabels = new ArrayList<>();
        for (String name : files) {
            Path file = directory.resolve(name);
            Map<?, ?> batch = dictionary(file);
            NumpyPickles.NumpyArray data = array(batch, "data", file);
            long[] shape = data.shape();
            if (!data.dtype().equals("|u1") || shape.length != 2 || shape[1] != 3 * 32 * 32 || data.fortranOrder()) {
                throw new IllegalArgumentException(file + ": 'data' is a " + data.dtype() + " array of shape "
                        + Arrays.toString(shape) + ", expected CIFAR's uint8 [N, 3072] (32 × 32 RGB planes)");
            }
            int[] labels = integers(batch, ten ? "labels" : "fine_labels", file);
            if (labels.length != shape[0]) {
                throw new IllegalArgumentException(file + ": " + shape[0] + " images but " + labels.length + " labels");
            }
            parts.add(data.rawBytes());
            partLabels.add(labels);
        }
        byte[] pixels = concatenate(parts);
        int[] labels = partLabels.stream().flatMapToInt(Arrays::stream).toArray();
        return carve(pixels, labels, CIFAR_SHAPE, classNames, split, preprocessing,
                directory.resolve(files.get(0)).toString() + (files.size() > 1 ? ".." + files.get(files.size() - 1) : ""));
    }

    /**
     * A split of SVHN ({@code directory} holds {@code train_32x32.mat} and {@code test_32x32.mat}; {@code extra} is
     * not used, as in DAM-VP).
     *
     * @param split {@code train}, {@code val} or {@code test}
     * @throws IllegalArgumentException in one line naming the file and variable for a missing file or variable,
     *                                  images that are not {@code [32, 32, 3, N]} uint8, or a label outside 1..10
     */
    public static PixelArrayImages svhn(Path directory, String split, ImagePreprocessing preprocessing) {
        requireSplit(split, directory);
        Path file = directory.resolve(split.equals("test") ? "test_32x32.mat" : "train_32x32.mat");
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("SVHN file " + file + " not found");
        }
        Map<String, MatFile.Variable> variables = MatFile.read(file);
        MatFile.Variable x = variables.get("X");
        MatFile.Variable y = variables.get("y");
        if (x == null || y == null) {
            throw new IllegalArgumentException(file + ": no variable '" + (x == null ? "X" : "y") + "' (it holds "
                    + variables.keySet() + ")");
        }
        int[] dims = x.dimensions();
        if (dims.length != 4 || dims[2] != 3 || !x.className().equals("uint8")) {
            throw new IllegalArgumentException(file + ": 'X' is a " + x.className() + " array of size "
                    + Arrays.toString(dims) + ", expected uint8 [H, W, 3, N]");
        }
        int height = dims[0];
        int width = dims[1];
        int count = dims[3];
        double[] digits = y.doubles();
        if (digits.length != count) {
            throw new IllegalArgumentException(file + ": " + count + " images in 'X' but " + digits.length
                    + " labels in 'y'");
        }
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) {
            if (digits[i] < 1 || digits[i] > 10 || digits[i] != Math.rint(digits[i])) {
                throw new IllegalArgumentException(file + ": 'y' of image " + i + " is " + digits[i]
                        + ", expected 1..10 (10 is the digit 0)");
            }
            labels[i] = (int) digits[i] % 10;
        }
        // X is column-major [H, W, C, N]: pixel (h, w, c) of image n at h + H (w + W (c + 3 n)). Reorder each image
        // to channel-major [C, H, W] once, so batches read it row by row.
        byte[] stored = x.uint8();
        int plane = height * width;
        byte[] pixels = new byte[stored.length];
        for (int n = 0; n < count; n++) {
            for (int c = 0; c < 3; c++) {
                int base = (n * 3 + c) * plane;
                for (int w = 0; w < width; w++) {
                    for (int h = 0; h < height; h++) {
                        pixels[base + h * width + w] = stored[base + w * height + h];
                    }
                }
            }
        }
        List<String> classNames = IntStream.range(0, 10).mapToObj(Integer::toString).toList();
        return carve(pixels, labels, new int[]{3, height, width}, classNames, split, preprocessing, file.toString());
    }

    /** The split of an official training set ({@code train}: first 80 %, {@code val}: the rest) or its test set. */
    private static PixelArrayImages carve(byte[] pixels, int[] labels, int[] shape, List<String> classNames,
                                          String split, ImagePreprocessing preprocessing, String source) {
        int trainCount = (int) (TRAIN_SHARE * labels.length); // DAM-VP's int(0.8 * N)
        int from = split.equals("val") ? trainCount : 0;
        int to = split.equals("train") ? trainCount : labels.length;
        return new PixelArrayImages(pixels, from, Arrays.copyOfRange(labels, from, to), shape, classNames,
                preprocessing, source + " (" + split + ": images " + from + ".." + (to - 1) + ")");
    }

    private static void requireSplit(String split, Path directory) {
        if (!SPLITS.contains(split)) {
            throw new IllegalArgumentException("no split '" + split + "' in " + directory + ": it has " + SPLITS);
        }
    }

    private static Map<?, ?> dictionary(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("CIFAR file " + file + " not found");
        }
        Object value;
        try {
            value = PICKLES.read(Files.readAllBytes(file), file.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (!(value instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException(file + " holds " + value + ", expected a dictionary");
        }
        return map;
    }

    /** The value of {@code key}, stored as a text key or (a Python 3 re-pickle) a bytes key. */
    private static Object value(Map<?, ?> dictionary, String key, Path file) {
        Object value = dictionary.containsKey(key) ? dictionary.get(key)
                : dictionary.get(new RestrictedUnpickler.Bytes(key.getBytes(StandardCharsets.UTF_8)));
        if (value == null) {
            throw new IllegalArgumentException(file + ": no key '" + key + "' (it holds " + dictionary.keySet() + ")");
        }
        return value;
    }

    private static NumpyPickles.NumpyArray array(Map<?, ?> dictionary, String key, Path file) {
        if (value(dictionary, key, file) instanceof NumpyPickles.NumpyArray array) {
            return array;
        }
        throw new IllegalArgumentException(file + ": '" + key + "' is not a NumPy array");
    }

    /** A list of integers, or an integer NumPy array (some re-packed archives store labels so). */
    private static int[] integers(Map<?, ?> dictionary, String key, Path file) {
        Object value = value(dictionary, key, file);
        long[] raw;
        if (value instanceof NumpyPickles.NumpyArray array) {
            raw = array.longs();
        } else if (value instanceof List<?> list) {
            raw = new long[list.size()];
            for (int i = 0; i < raw.length; i++) {
                if (!(list.get(i) instanceof Long l)) {
                    throw new IllegalArgumentException(file + ": '" + key + "'[" + i + "] is " + list.get(i)
                            + ", expected an integer");
                }
                raw[i] = l;
            }
        } else {
            throw new IllegalArgumentException(file + ": '" + key + "' is neither a list nor an array of integers");
        }
        int[] out = new int[raw.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = Math.toIntExact(raw[i]);
        }
        return out;
    }

    private static List<String> strings(Map<?, ?> dictionary, String key, Path file) {
        if (!(value(dictionary, key, file) instanceof List<?> list)) {
            throw new IllegalArgumentException(file + ": '" + key + "' is not a list of names");
        }
        return list.stream().map(v -> v instanceof RestrictedUnpickler.Bytes b
                ? new String(b.value(), StandardCharsets.UTF_8) : String.valueOf(v)).toList();
    }

    private static byte[] concatenate(List<byte[]> parts) {
        long total = parts.stream().mapToLong(p -> p.length).sum();
        if (parts.size() == 1) {
            return parts.get(0);
        }
        byte[] out = new byte[Math.toIntExact(total)];
        int at = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, out, at, part.length);
            at += part.length;
        }
        return out;
    }
}
