package org.sa2vp.method;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.node.ObjectNode;
import org.sa2vp.backbone.Backbone;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.Backbones;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.backbone.weights.CheckpointFormat;
import org.sa2vp.backbone.weights.SafetensorsReader;
import org.sa2vp.config.ConfigSupport;
import org.sa2vp.config.JsonTypes;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * The registry of tuning methods, as PEFT's method registry: every {@link TuningMethodProvider} on the class path
 * (found through {@link ServiceLoader}) and every one given to {@link #register} contributes configuration types
 * (for JSON) and named variants (for {@link #create}). The trainer, the command line and the benchmarks reach
 * methods only through here, so a new method arrives as new files.
 */
public final class TuningMethods {

    /** JSON {@code "method"} ids of the configuration classes. */
    public static final JsonTypes<TuningMethod> JSON_TYPES = new JsonTypes<>(TuningMethod.class, "method");

    /** Variants by name; a name may have one variant per backbone family. */
    private static final Map<String, List<MethodVariant>> VARIANTS = new LinkedHashMap<>();
    private static final Set<Class<?>> PROVIDERS = new LinkedHashSet<>();

    static {
        List<TuningMethodProvider> found = new ArrayList<>();
        ServiceLoader.load(TuningMethodProvider.class, TuningMethods.class.getClassLoader()).forEach(found::add);
        found.sort(Comparator.comparingInt(TuningMethodProvider::order)
                .thenComparing(p -> p.getClass().getName()));
        found.forEach(TuningMethods::register);
    }

    private TuningMethods() {
    }

    /** Registers a provider's types and variants (again for the same provider class: nothing). */
    public static synchronized void register(TuningMethodProvider provider) {
        if (!PROVIDERS.add(provider.getClass())) {
            return;
        }
        provider.configurationTypes().forEach(JSON_TYPES::register);
        if (provider.untaggedJsonType() != null) {
            JSON_TYPES.untaggedId(provider.untaggedJsonType());
        }
        for (MethodVariant variant : provider.variants()) {
            List<MethodVariant> same = VARIANTS.computeIfAbsent(variant.name(), n -> new ArrayList<>());
            for (MethodVariant other : same) {
                if (other.backboneFamily().equals(variant.backboneFamily())) {
                    throw new IllegalArgumentException("tuning method '" + variant.name() + "' is already registered "
                            + "for backbone family '" + variant.backboneFamily() + "'");
                }
            }
            same.add(variant);
        }
    }

    /** Every variant name, in registration order. */
    public static synchronized List<String> names() {
        return List.copyOf(VARIANTS.keySet());
    }

    /** Every registered variant (one per name and backbone family). */
    public static synchronized List<MethodVariant> variants() {
        return VARIANTS.values().stream().flatMap(List::stream).toList();
    }

    /**
     * The registered name for {@code label}: case-insensitive, '_' for '-' accepted; a one-line error listing the
     * registered names otherwise.
     */
    public static synchronized String canonicalName(String label) {
        String wanted = label.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        if (!VARIANTS.containsKey(wanted)) {
            throw new IllegalArgumentException("unknown method '" + label + "'; expected one of "
                    + String.join(", ", VARIANTS.keySet()));
        }
        return wanted;
    }

    /** The variant {@code name} for backbones of {@code family}, or a one-line error. */
    public static synchronized MethodVariant variant(String name, String family) {
        List<MethodVariant> candidates = VARIANTS.get(canonicalName(name));
        // A variant registered for the family itself wins over one for any family.
        return candidates.stream().filter(v -> v.backboneFamily().equals(family)).findFirst()
                .or(() -> candidates.stream().filter(v -> v.buildsOn(family)).findFirst()).orElseThrow(() ->
                new IllegalArgumentException("method '" + name + "' is registered for backbone famil"
                        + (candidates.size() == 1 ? "y " : "ies ")
                        + String.join(", ", candidates.stream().map(MethodVariant::backboneFamily).toList())
                        + ", not '" + family + "'"));
    }

    /** The default configuration of method {@code name} for {@code numClasses} classes on {@code backbone}. */
    public static TuningMethod create(String name, Backbone backbone, int numClasses) {
        return variant(name, backbone.family()).factory().create(backbone.headless(), numClasses).validated();
    }

    /**
     * Fails with one line naming {@code source} unless {@code storedJson} (the configuration stored with trained
     * tensors) is a method of the same name, class count and backbone architecture as {@code method}: what decides
     * the trained tensors' meaning and shapes.
     */
    public static void requireTrainedBy(TuningMethod method, String storedJson, String source) {
        if (storedJson == null) {
            throw new IllegalArgumentException(source + ": no method configuration stored with the tensors (written "
                    + "by another program?)");
        }
        TuningMethod stored;
        try {
            stored = fromJson(storedJson);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": bad stored method configuration: " + e.getMessage(), e);
        }
        if (!stored.methodName().equals(method.methodName()) || stored.getNumClasses() != method.getNumClasses()
                || !stored.getBackbone().sameArchitecture(method.getBackbone())) {
            throw new IllegalArgumentException(source + ": trained by " + stored.methodName() + " for "
                    + stored.getNumClasses() + " classes on " + stored.getBackbone().describe() + ", not "
                    + method.methodName() + " for " + method.getNumClasses() + " classes on "
                    + method.getBackbone().describe());
        }
    }

    /**
     * The configuration stored with the tensors of a {@link TuningMethod#writeTrained} file ({@code sa2vp train}'s
     * {@code adapter.safetensors}, of any method): the metadata value that is a registered method's JSON.
     */
    public static TuningMethod trainedBy(Path file) {
        if (CheckpointFormat.detect(file) != CheckpointFormat.SAFETENSORS) {
            throw new CheckpointException(file + ": not an SA2VP adapter file (expected the .safetensors written by "
                    + "sa2vp train)");
        }
        List<TuningMethod> found = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        for (Map.Entry<String, String> entry : SafetensorsReader.metadata(file).entrySet()) {
            if (entry.getValue().startsWith("{")) {
                try {
                    found.add(fromJson(entry.getValue()));
                } catch (IllegalArgumentException e) {
                    errors.add("'" + entry.getKey() + "': " + e.getMessage());
                }
            }
        }
        if (found.size() != 1) {
            throw new CheckpointException(file + ": " + (found.isEmpty() ? "no" : found.size()) + " tuning method "
                    + "configurations in its metadata, where sa2vp train writes one" + (errors.isEmpty() ? ""
                    : " (" + String.join("; ", errors) + ")"));
        }
        return found.get(0);
    }

    /** A new graph of {@code method} for inference: float32, weights still to load (backbone, trained tensors). */
    public static ComputationGraph newGraph(TuningMethod method) {
        ComputationGraph graph = new ComputationGraph(method.configuration(new NeuralNetConfiguration.Builder()
                .seed(42).dataType(DataType.FLOAT).updater(new NoOp())));
        graph.init();
        return graph;
    }

    /**
     * What {@code method} trained, ready for inference: a new graph ({@link #newGraph}) with {@code checkpoint} in
     * its backbone and the tensors of {@code trainedFile} on top.
     *
     * @param method the configuration stored in {@code trainedFile} ({@link #trainedBy})
     * @throws IllegalArgumentException in one line when the checkpoint's architecture is not the one trained on
     */
    public static ComputationGraph inferenceGraph(TuningMethod method, BackboneCheckpoint checkpoint,
                                                  Path trainedFile) {
        Backbones.requireSameArchitecture(method.getBackbone(), checkpoint.config(), checkpoint.source());
        ComputationGraph graph = newGraph(method);
        method.loadBackbone(graph, checkpoint);
        method.loadTrained(graph, trainedFile);
        return graph;
    }

    /**
     * {@code method}'s graph on {@code globals} with the pretrained {@code checkpoint} copied into its backbone
     * (frozen wherever the method freezes it; the method's own parts and head initialised from the globals' seed):
     * the graph {@code new ComputationGraph(method.configuration(globals))} + {@link TuningMethod#loadBackbone} would
     * give. The checkpoint may come from a file ({@link Backbones#read}), a DL4J graph ({@link Backbones#fromGraph})
     * or an ONNX model ({@link Backbones#fromOnnx}). For the paper's training recipe pass
     * {@code recipe.globals(recipe.iterationsPerEpoch(trainSize))} ({@code org.sa2vp.train.TrainingRecipe}), as
     * {@code Trainer.newGraph} does.
     *
     * @throws IllegalArgumentException one line when the method's backbone is not the checkpoint's architecture
     */
    public static ComputationGraph attach(TuningMethod method, BackboneCheckpoint checkpoint,
                                          NeuralNetConfiguration.Builder globals) {
        method.validated();
        if (!method.getBackbone().sameArchitecture(checkpoint.config())) {
            throw new IllegalArgumentException(checkpoint.source() + ": backbone " + checkpoint.config().describe()
                    + " is not the one method " + method.methodName() + " is configured on, "
                    + method.getBackbone().describe() + "; build the method on the checkpoint's config()");
        }
        ComputationGraph graph = new ComputationGraph(method.configuration(globals));
        graph.init();
        method.loadBackbone(graph, checkpoint);
        return graph;
    }

    /**
     * The default configuration of method {@code name} for {@code numClasses} classes, attached to the backbone in
     * {@code backbone}, a DL4J graph the user holds (see {@link Backbones#fromGraph}; the user's graph is only
     * read). Equivalent to {@link #attach(TuningMethod, BackboneCheckpoint, NeuralNetConfiguration.Builder)} with
     * {@code create(name, checkpoint.config(), numClasses)}; use that form to change the method's settings.
     */
    public static ComputationGraph attach(String name, int numClasses, ComputationGraph backbone,
                                          NeuralNetConfiguration.Builder globals) {
        BackboneCheckpoint checkpoint = Backbones.fromGraph(backbone, CheckpointOptions.defaults());
        return attach(create(name, checkpoint.config(), numClasses), checkpoint, globals);
    }

    public static TuningMethod fromJson(String json) {
        return ConfigSupport.fromJson(json, TuningMethod.class).validated();
    }

    /** The names of {@code method}'s settings (its JSON fields besides {@code "method"}). */
    public static List<String> settingNames(TuningMethod method) {
        List<String> names = new ArrayList<>();
        ConfigSupport.mapper().valueToTree(method).fieldNames().forEachRemaining(names::add);
        names.remove(JSON_TYPES.property());
        return names;
    }

    /**
     * {@code method} with some settings replaced, by JSON field name (e.g. {@code promptRank → 8}); the values are
     * what the JSON holds (numbers, booleans, strings, lists, enum names); a name of the method's
     * {@link TuningMethod#settingAliases} sets each setting it stands for. A name the method does not have is a
     * one-line error listing the ones it has; the result is validated.
     */
    public static TuningMethod withSettings(TuningMethod method, Map<String, ?> settings) {
        if (settings.isEmpty()) {
            return method;
        }
        Map<String, Object> expanded = new LinkedHashMap<>();
        settings.forEach((name, value) -> method.settingAliases().getOrDefault(name, List.of(name))
                .forEach(setting -> expanded.put(setting, value)));
        ObjectNode tree = ConfigSupport.mapper().valueToTree(method);
        for (Map.Entry<String, ?> setting : expanded.entrySet()) {
            if (!tree.has(setting.getKey()) || setting.getKey().equals(JSON_TYPES.property())) {
                throw new IllegalArgumentException("method " + method.methodName() + " has no setting '"
                        + setting.getKey() + "'; its settings: " + String.join(", ", settingNames(method)));
            }
            JsonNode value = ConfigSupport.mapper().valueToTree(setting.getValue());
            tree.set(setting.getKey(), value);
        }
        try {
            return ConfigSupport.mapper().treeToValue(tree, TuningMethod.class).validated();
        } catch (org.nd4j.shade.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("method " + method.methodName() + ": " + e.getOriginalMessage(), e);
        }
    }
}
