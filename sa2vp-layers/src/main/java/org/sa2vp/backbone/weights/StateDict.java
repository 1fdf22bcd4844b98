package org.sa2vp.backbone.weights;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The named tensors of one checkpoint file, in file order, as float32 C-order arrays with the file's own shapes
 * and layouts. Every accessor reports problems as a one-line {@link CheckpointException} naming the file.
 */
public final class StateDict {

    private final String source;
    private final Map<String, INDArray> tensors;
    private final Map<String, String> origins;

    public StateDict(String source, Map<String, INDArray> tensors) {
        this(source, tensors, Map.of());
    }

    /**
     * @param origins for renamed dictionaries: each key's name(s) in the file, so that errors name what the user
     *                can find in the file
     */
    public StateDict(String source, Map<String, INDArray> tensors, Map<String, String> origins) {
        this.source = source;
        this.tensors = new LinkedHashMap<>(tensors);
        this.origins = Map.copyOf(origins);
    }

    /** The key as the file names it (with the renamed key in brackets when they differ). */
    public String describe(String key) {
        String origin = origins.get(key);
        return origin == null || origin.equals(key) ? "'" + key + "'" : "'" + origin + "' (" + key + ")";
    }

    /** File name (or description) used in error messages. */
    public String source() {
        return source;
    }

    public Set<String> keys() {
        return Collections.unmodifiableSet(tensors.keySet());
    }

    public Map<String, INDArray> tensors() {
        return Collections.unmodifiableMap(tensors);
    }

    public boolean contains(String key) {
        return tensors.containsKey(key);
    }

    /** The tensor or a "missing key" error. */
    public INDArray get(String key) {
        INDArray t = tensors.get(key);
        if (t == null) {
            throw new CheckpointException(source + ": missing key " + describe(key));
        }
        return t;
    }

    /** The tensor, checked against {@code shape} (-1 matches any size). */
    public INDArray get(String key, long... shape) {
        INDArray t = get(key);
        if (!matches(t.shape(), shape)) {
            throw new CheckpointException(source + ": key " + describe(key) + " has shape " + Arrays.toString(t.shape())
                    + ", expected " + Arrays.toString(shape));
        }
        return t;
    }

    static boolean matches(long[] actual, long[] expected) {
        if (actual.length != expected.length) {
            return false;
        }
        for (int i = 0; i < actual.length; i++) {
            if (expected[i] >= 0 && expected[i] != actual[i]) {
                return false;
            }
        }
        return true;
    }
}
