package org.sa2vp.backbone;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.backbone.weights.OnnxModel;
import org.sa2vp.config.ConfigSupport;
import org.sa2vp.config.JsonTypes;
import org.sa2vp.config.Registry;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.function.Function;

/**
 * The registry of backbone families. Families on the class path register themselves through
 * {@link ServiceLoader} ({@code META-INF/services/org.sa2vp.backbone.BackboneFamily}); user code may also
 * {@link #register} one. Every look-up by an unknown name fails with one line that lists the registered ones.
 */
public final class Backbones {

    /** JSON {@code "family"} ids of the configuration classes. */
    public static final JsonTypes<Backbone> JSON_TYPES = new JsonTypes<>(Backbone.class, "family");

    private static final Registry<BackboneFamily> FAMILIES = new Registry<>("backbone family");

    static {
        for (BackboneFamily family : ServiceLoader.load(BackboneFamily.class, Backbones.class.getClassLoader())) {
            register(family);
        }
    }

    private Backbones() {
    }

    /** Registers a family (again for the same family class: nothing). */
    public static synchronized void register(BackboneFamily family) {
        if (FAMILIES.find(family.name()).map(f -> f.getClass().equals(family.getClass())).orElse(false)) {
            return;
        }
        FAMILIES.register(family.name(), family);
        JSON_TYPES.register(family.name(), family.configurationType());
        if (family.readsUntaggedJson()) {
            JSON_TYPES.untaggedId(family.name());
        }
    }

    /** Family names in registration order. */
    public static List<String> families() {
        return FAMILIES.names();
    }

    public static BackboneFamily family(String name) {
        return FAMILIES.get(name);
    }

    /** A named variant of any family, e.g. {@code vit_base_patch16_224}. */
    public static Backbone variant(String name) {
        for (BackboneFamily family : FAMILIES.entries()) {
            if (family.variants().contains(name)) {
                return family.variant(name);
            }
        }
        throw new IllegalArgumentException("unknown backbone variant '" + name + "'; registered: " + String.join(", ",
                FAMILIES.entries().stream().flatMap(f -> f.variants().stream()).toList()));
    }

    /**
     * Reads a checkpoint of whichever registered family {@link BackboneFamily#recognises} the file (the only
     * family, when there is one). A file no family recognises is read by the family that reads untagged JSON (the
     * ViT: the first format had no other family), whose reader says in one line what the file is, e.g. which node
     * of an ONNX model is no patch embedding.
     */
    public static BackboneCheckpoint read(Path file, CheckpointOptions options) {
        List<BackboneFamily> all = FAMILIES.entries();
        if (all.size() == 1) {
            return all.get(0).read(file, options);
        }
        List<BackboneFamily> matching = all.stream().filter(f -> f.recognises(file)).toList();
        if (matching.isEmpty()) {
            matching = all.stream().filter(BackboneFamily::readsUntaggedJson).toList();
        }
        if (matching.size() != 1) {
            throw new IllegalArgumentException(file + ": " + (matching.isEmpty() ? "no" : "more than one")
                    + " registered backbone family recognises its weights (registered: "
                    + String.join(", ", FAMILIES.names()) + ")");
        }
        return matching.get(0).read(file, options);
    }

    /**
     * The backbone in a DL4J graph the user already holds, as the one registered family that
     * {@link BackboneFamily#fromGraph recognises} it reads it (weights copied out of the graph).
     *
     * @throws IllegalArgumentException one line: when no family recognises the graph, each family's reason (the
     *                                  vertex it could not map and what it expected there)
     */
    public static BackboneCheckpoint fromGraph(ComputationGraph graph, CheckpointOptions options) {
        return recognise("DL4J graph", family -> family.fromGraph(graph, options));
    }

    /** As {@link #fromGraph}, for a parsed ONNX model ({@link BackboneFamily#fromOnnx}). */
    public static BackboneCheckpoint fromOnnx(OnnxModel model, CheckpointOptions options) {
        return recognise("ONNX model", family -> family.fromOnnx(model, options));
    }

    /** The one family's reading of a model; {@code what} names the model in the error. */
    private static BackboneCheckpoint recognise(String what, Function<BackboneFamily, BackboneCheckpoint> reader) {
        List<BackboneCheckpoint> found = new ArrayList<>();
        List<String> reasons = new ArrayList<>();
        for (BackboneFamily family : FAMILIES.entries()) {
            try {
                found.add(reader.apply(family));
            } catch (IllegalArgumentException | CheckpointException e) {
                reasons.add(family.name() + ": " + e.getMessage());
            }
        }
        if (found.size() != 1) {
            throw new IllegalArgumentException(what + ": " + (found.isEmpty()
                    ? "no registered backbone family recognises it (" + String.join("; ", reasons) + ")"
                    : "more than one registered backbone family recognises it (" + String.join(", ",
                    found.stream().map(c -> c.config().family()).toList()) + ")"));
        }
        return found.get(0);
    }

    /**
     * Fails with one line naming {@code source} unless {@code actual} (a checkpoint's architecture) is the one
     * {@code trainedOn} describes: what trained tensors need of the frozen backbone they run on.
     */
    public static void requireSameArchitecture(Backbone trainedOn, Backbone actual, String source) {
        if (!trainedOn.sameArchitecture(actual)) {
            throw new CheckpointException(source + ": backbone " + actual.describe() + " differs from the one the "
                    + "adapter was trained on, " + trainedOn.describe());
        }
    }

    public static Backbone fromJson(String json) {
        return ConfigSupport.fromJson(json, Backbone.class).validated();
    }
}
