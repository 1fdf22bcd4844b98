package org.sa2vp.backbone.weights.keras;

import org.deeplearning4j.nn.modelimport.keras.Hdf5Archive;
import org.deeplearning4j.nn.modelimport.keras.config.Keras2LayerConfiguration;
import org.deeplearning4j.nn.modelimport.keras.utils.KerasModelUtils;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.weights.CheckpointException;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What every Keras {@code .h5} loader here (the ViT's {@link KerasVisionTransformer}, the Swin family's) does the
 * same way, so that they fail with the same one-line {@link CheckpointException}s: opening the file, the layer list of
 * its {@code model_config}, reading weights stored at {@code model_weights/<layer>/<layer>/<weight>:0}, the Keras
 * classes DL4J 1.0.0-M2.1 imports itself, and the message for any other class.
 */
public final class KerasFiles {

    private static final String WEIGHTS_ROOT = "model_weights";

    /** What DL4J 1.0.0-M2.1's Keras import exceptions append to every message. */
    private static final List<String> DL4J_SUFFIXES = List.of(
            ". For more information, see https://deeplearning4j.konduit.ai/keras-import/overview",
            ". Please file an issue at https://github.com/eclipse/deeplearning4j/issues.");

    private static Set<String> dl4jClasses;

    private KerasFiles() {
    }

    /** Opens the file with DL4J's HDF5 reader, or fails with one line for missing, truncated or non-HDF5 files. */
    public static Hdf5Archive openArchive(Path h5, String file) {
        if (!Files.isRegularFile(h5) || !Files.isReadable(h5)) {
            throw new CheckpointException(file + ": not a readable file (" + h5.toAbsolutePath() + ")");
        }
        try {
            return new Hdf5Archive(h5.toString());
        } catch (RuntimeException e) {
            throw new CheckpointException(file + ": not a readable HDF5 file, truncated or corrupt (" + oneLine(e)
                    + ")", e);
        }
    }

    /** The layer list of a functional model's JSON (a parsed map or the JSON text). */
    @SuppressWarnings("unchecked")
    public static List<Map<String, Object>> modelLayers(Object modelJson, String file) throws Exception {
        Map<String, Object> model = modelJson instanceof Map ? (Map<String, Object>) modelJson
                : KerasModelUtils.parseJsonString((String) modelJson);
        Object layers = KerasConfig.inner(model).get("layers");
        if (!(layers instanceof List)) {
            throw new CheckpointException(file + ": model_config has no layer list (not a Keras functional model)");
        }
        return (List<Map<String, Object>>) layers;
    }

    /**
     * The Keras class names of the model's layers, in order, read from its {@code model_config} alone (no weights),
     * so that a file's layout can be told cheaply.
     *
     * @throws CheckpointException one line for unreadable files and models without a layer list
     */
    public static List<String> layerClasses(Path h5) {
        String file = h5.getFileName().toString();
        try (Hdf5Archive archive = openArchive(h5, file)) {
            return modelLayers(archive.readAttributeAsJson("model_config"), file).stream()
                    .map(layer -> String.valueOf(layer.get("class_name"))).toList();
        } catch (Exception e) {
            throw failure(file, e);
        }
    }

    /**
     * A Keras weight, stored at {@code model_weights/<layer>/<layer>/<weight>:0} ({@code weight} may be nested,
     * e.g. {@code query/kernel}).
     */
    public static INDArray readWeight(Hdf5Archive archive, String file, String layer, String weight) {
        int slash = weight.lastIndexOf('/');
        String group = WEIGHTS_ROOT + "/" + layer + "/" + layer + (slash < 0 ? "" : "/" + weight.substring(0, slash));
        try {
            return archive.readDataSet(weight.substring(slash + 1) + ":0", group);
        } catch (Exception e) {
            throw new CheckpointException(file + ": layer '" + layer + "': cannot read weight '" + weight + ":0' ("
                    + oneLine(e) + ")", e);
        }
    }

    /**
     * Every weight of {@code layer} under its name relative to the layer ({@code kernel}, {@code attn/qkv/kernel},
     * ...), without the {@code :0} suffix, read by walking the layer's group; empty for a layer without weights.
     */
    public static Map<String, INDArray> readLayerWeights(Hdf5Archive archive, String file, String layer) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        String root = WEIGHTS_ROOT + "/" + layer;
        try {
            if (!archive.getGroups(root).contains(layer)) {
                return out;
            }
            collect(archive, file, layer, root + "/" + layer, "", out);
        } catch (CheckpointException e) {
            throw e;
        } catch (Exception e) {
            throw new CheckpointException(file + ": layer '" + layer + "': cannot list its weights (" + oneLine(e)
                    + ")", e);
        }
        return out;
    }

    private static void collect(Hdf5Archive archive, String file, String layer, String group, String prefix,
                                Map<String, INDArray> out) {
        for (String dataSet : archive.getDataSets(group)) {
            String name = prefix + dataSet.replaceFirst(":\\d+$", "");
            out.put(name, readWeight(archive, file, layer, name));
        }
        for (String child : archive.getGroups(group)) {
            collect(archive, file, layer, group + "/" + child, prefix + child + "/", out);
        }
    }

    /** The Keras layer classes DL4J 1.0.0-M2.1's Keras import knows itself. */
    public static synchronized Set<String> dl4jClasses() {
        if (dl4jClasses == null) {
            Set<String> names = new HashSet<>();
            try {
                Keras2LayerConfiguration conf = new Keras2LayerConfiguration();
                for (Method getter : conf.getClass().getMethods()) {
                    if (getter.getName().startsWith("getLAYER_CLASS_NAME_") && getter.getParameterCount() == 0
                            && getter.invoke(conf) instanceof String className) {
                        names.add(className);
                    }
                }
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot list DL4J's Keras layer classes", e);
            }
            dl4jClasses = Set.copyOf(names);
        }
        return dl4jClasses;
    }

    /** The error for a layer whose class neither DL4J nor the registered sa2vp layers import. */
    public static CheckpointException unsupportedClass(String file, String layer, String kerasClass) {
        return new CheckpointException(file + ": layer '" + layer + "' has Keras class '" + kerasClass
                + "', which DL4J's Keras import and the sa2vp Keras layers do not support");
    }

    /** A failure of any kind as a one-line error naming the file (checkpoint errors pass through). */
    public static CheckpointException failure(String file, Exception e) {
        return e instanceof CheckpointException c ? c : new CheckpointException(file + ": " + oneLine(e), e);
    }

    /**
     * The exception's message (or its cause's, or its class name) on one line. DL4J's wrapping of a custom layer's
     * constructor failure (a plain RuntimeException around the reflective call) is looked through to the layer's own
     * message, and the links DL4J's Keras exceptions append ({@link #DL4J_SUFFIXES}) are removed: the message says
     * what is wrong with the file, not where DL4J files issues.
     */
    public static String oneLine(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && (t.getMessage() == null || t instanceof InvocationTargetException
                || t.getClass() == RuntimeException.class && t.getCause() instanceof InvocationTargetException)) {
            t = t.getCause();
        }
        String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        for (String suffix : DL4J_SUFFIXES) {
            message = message.replace(suffix, "");
        }
        return message.replaceAll("\\s*\\R\\s*", " ").trim();
    }
}
