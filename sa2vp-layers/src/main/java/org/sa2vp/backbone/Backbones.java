package org.sa2vp.backbone;

import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.config.ConfigSupport;
import org.sa2vp.config.JsonTypes;
import org.sa2vp.config.Registry;

import java.nio.file.Path;
import java.util.List;
import java.util.ServiceLoader;

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
     * family, when there is one).
     */
    public static BackboneCheckpoint read(Path file, CheckpointOptions options) {
        List<BackboneFamily> all = FAMILIES.entries();
        if (all.size() == 1) {
            return all.get(0).read(file, options);
        }
        List<BackboneFamily> matching = all.stream().filter(f -> f.recognises(file)).toList();
        if (matching.size() != 1) {
            throw new IllegalArgumentException(file + ": " + (matching.isEmpty() ? "no" : "more than one")
                    + " registered backbone family recognises its weights (registered: "
                    + String.join(", ", FAMILIES.names()) + ")");
        }
        return matching.get(0).read(file, options);
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
