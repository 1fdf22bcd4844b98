package org.sa2vp.model;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sa2vp.backbone.Backbones;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.backbone.weights.CheckpointFormat;
import org.sa2vp.backbone.weights.NpzReader;
import org.sa2vp.backbone.weights.PthReader;
import org.sa2vp.backbone.weights.SafetensorsReader;
import org.sa2vp.backbone.weights.SafetensorsWriter;
import org.sa2vp.backbone.weights.StateDict;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SA2VP's parameter file, the result of training as a small file: only the trainable tensors and the head, under the authors'
 * state-dict names and layouts ({@link AuthorsNames}), as float32 {@code .safetensors} with the model
 * configuration in the metadata ({@value #CONFIG_KEY}: the {@link Sa2vpConfig} JSON). For ViT-B/16 at r = 16 that
 * is about 380 k values (1.5 MB) instead of the 114 M of a full network; the frozen backbone comes from its own
 * checkpoint file. The authors' code can load the tensors with {@code load_state_dict(strict=False)}.
 */
public final class AdapterFile {

    public static final String CONFIG_KEY = "sa2vp_config";
    public static final String FORMAT_KEY = "format";
    public static final String FORMAT = "sa2vp-adapter-1";

    private AdapterFile() {
    }

    /** An adapter file's contents: the configuration it was trained with and its tensors. */
    public record Contents(Sa2vpConfig config, StateDict tensors) {

        /**
         * A new inference graph for this adapter on {@code backbone}, which must have the architecture the adapter
         * was trained on (width, depth, heads, patch, image size, channels, MLP width).
         */
        public ComputationGraph graph(VitCheckpoint backbone) {
            requireBackbone(config, backbone.config(), backbone.weights().source());
            ComputationGraph graph = Sa2vpModel.create(config);
            Sa2vpModel.loadBackbone(graph, config, backbone);
            AuthorsNames.load(graph, config, tensors);
            return graph;
        }
    }

    /** Writes the trainable tensors of {@code graph} (built from {@code config}). */
    public static void write(Path file, ComputationGraph graph, Sa2vpConfig config) {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put(FORMAT_KEY, FORMAT);
        metadata.put(CONFIG_KEY, config.toJson());
        SafetensorsWriter.write(file, AuthorsNames.export(graph, config), metadata);
    }

    public static Contents read(Path file) {
        if (CheckpointFormat.detect(file) != CheckpointFormat.SAFETENSORS) {
            throw new CheckpointException(file + ": not an SA2VP adapter file (expected the .safetensors written by "
                    + "sa2vp train)");
        }
        Map<String, String> metadata = SafetensorsReader.metadata(file);
        String json = metadata.get(CONFIG_KEY);
        if (json == null) {
            throw new CheckpointException(file + ": not an SA2VP adapter file (no '" + CONFIG_KEY + "' metadata; "
                    + "it is written by sa2vp train)");
        }
        Sa2vpConfig config;
        try {
            config = Sa2vpConfig.fromJson(json);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file + ": bad '" + CONFIG_KEY + "' metadata: " + e.getMessage());
        }
        return new Contents(config, SafetensorsReader.read(file));
    }

    /**
     * Loads an adapter file into a graph built from {@code config}; the file must have been trained with the same
     * configuration (dropout, which only acts in training, and the backbone's name may differ).
     */
    public static void load(Path file, ComputationGraph graph, Sa2vpConfig config) {
        Contents contents = read(file);
        if (!comparable(contents.config()).equals(comparable(config))) {
            throw new CheckpointException(file + ": trained for configuration " + contents.config().toJson()
                    + ", not " + config.toJson());
        }
        AuthorsNames.load(graph, config, contents.tensors());
    }

    private static Sa2vpConfig comparable(Sa2vpConfig c) {
        return c.withDropout(0).withBackbone(c.getBackbone().withName("").withDropout(0));
    }

    /** Fails unless {@code actual} has the architecture of the adapter's backbone. */
    public static void requireBackbone(Sa2vpConfig config, VisionTransformerConfig actual, String source) {
        Backbones.requireSameArchitecture(config.getBackbone(), actual, source);
    }

    /**
     * SA2VP parameters from any file that holds them, read once: an adapter file ({@link #write}) brings its
     * configuration, checked against {@code template}'s backbone; the authors' state dict ({@code .safetensors},
     * {@code .npz} or a {@code torch.save} {@code .pth}) takes {@code template} with what its tensors tell: rank
     * from {@code ppt [1, T, r]}, adapter width from {@code fc1 [t, D]}, the number of deep maps from
     * {@code cross_conv [n, D]} (it must match the template's deep prompt layers), classes from {@code class_head}.
     *
     * @param template the configuration for what the tensors cannot tell (γ, window, layer sets), on the backbone
     *                 the parameters will run on
     */
    public static Contents readAny(Path file, Sa2vpConfig template) {
        VisionTransformerConfig backbone = template.getBackbone();
        CheckpointFormat format = CheckpointFormat.detect(file);
        if (format == CheckpointFormat.SAFETENSORS && SafetensorsReader.metadata(file).containsKey(CONFIG_KEY)) {
            Contents adapter = read(file);
            requireBackbone(adapter.config(), backbone, file.toString());
            return new Contents(adapter.config().withBackbone(backbone), adapter.tensors());
        }
        StateDict params = readTensors(file);
        return new Contents(inferConfig(params, file, template), params);
    }

    /** A state dict of SA2VP parameters without configuration: {@code .safetensors}, {@code .npz} or {@code .pth}. */
    static StateDict readTensors(Path file) {
        return switch (CheckpointFormat.detect(file)) {
            case SAFETENSORS -> SafetensorsReader.read(file);
            case NPZ -> NpzReader.readNpz(file);
            case PTH -> PthReader.read(file);
            default -> throw new CheckpointException(file + ": SA2VP parameters must be .safetensors, .npz or a "
                    + "torch.save .pth");
        };
    }

    private static Sa2vpConfig inferConfig(StateDict params, Path file, Sa2vpConfig template) {
        VisionTransformerConfig backbone = template.getBackbone();
        String p = AuthorsNames.PREFIX;
        long d = backbone.getHiddenSize();
        String fc1 = p + "encoder.cross_attn.0.ffn.fc1.weight";
        int rank = (int) params.get(p + "embeddings.ppt", 1, backbone.numTokens(), -1).size(2);
        int classes = (int) params.get("class_head.weight", -1, d).size(0);
        int deepMaps = params.contains(p + "encoder.cross_conv") ? (int) params.get(p + "encoder.cross_conv", -1, d)
                .size(0) : 0;
        Sa2vpConfig config = template.withNumClasses(classes).withPromptRank(rank).withAdapter(params.contains(fc1));
        if (config.isAdapter()) {
            config = config.withAdapterSize((int) params.get(fc1, -1, d).size(0));
        }
        List<Integer> deep = config.getDeepPromptLayers();
        if (deep.size() != deepMaps) {
            throw new CheckpointException(file + ": holds " + deepMaps + " deep prompt maps but --deep-prompt-layers "
                    + "gives " + deep + "; pass the layers they were trained at");
        }
        return config.validated();
    }
}
