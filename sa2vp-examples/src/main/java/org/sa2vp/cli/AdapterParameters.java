package org.sa2vp.cli;

import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.backbone.weights.CheckpointFormat;
import org.sa2vp.backbone.weights.NpzReader;
import org.sa2vp.backbone.weights.SafetensorsReader;
import org.sa2vp.backbone.weights.StateDict;
import org.sa2vp.model.AuthorsNames;
import org.sa2vp.model.Sa2vpConfig;
import org.sa2vp.model.AdapterFile;

import java.nio.file.Path;
import java.util.List;

/** SA2VP trainable tensors in a file (authors' names), and the configuration they imply. */
final class AdapterParameters {

    private AdapterParameters() {
    }

    /** The tensors and the configuration that goes with them. */
    record Loaded(Sa2vpConfig config, StateDict tensors) {
    }

    /**
     * Reads the file once: an adapter file written by {@code sa2vp train} brings its configuration; otherwise it
     * is inferred from the tensors: rank from {@code ppt [1, T, r]}, adapter width from {@code fc1 [t, D]}, the
     * number of deep maps from {@code cross_conv [n, D]}, classes from {@code class_head}; the rest from the options.
     */
    static Loaded load(Path file, VisionTransformerConfig backbone, Sa2vpOptions options) {
        CheckpointFormat format = CheckpointFormat.detect(file);
        if (format == CheckpointFormat.SAFETENSORS
                && SafetensorsReader.metadata(file).containsKey(AdapterFile.CONFIG_KEY)) {
            AdapterFile.Contents adapter = AdapterFile.read(file);
            AdapterFile.requireBackbone(adapter.config(), backbone, file.toString());
            return new Loaded(adapter.config().withBackbone(backbone), adapter.tensors());
        }
        StateDict params = switch (format) {
            case SAFETENSORS -> SafetensorsReader.read(file);
            case NPZ -> NpzReader.readNpz(file);
            default -> throw new CheckpointException(file + ": SA2VP parameters must be .safetensors or .npz");
        };
        return new Loaded(inferConfig(params, file, backbone, options), params);
    }

    private static Sa2vpConfig inferConfig(StateDict params, Path file, VisionTransformerConfig backbone,
                                           Sa2vpOptions options) {
        String p = AuthorsNames.PREFIX;
        long d = backbone.getHiddenSize();
        String fc1 = p + "encoder.cross_attn.0.ffn.fc1.weight";
        int rank = (int) params.get(p + "embeddings.ppt", 1, backbone.numTokens(), -1).size(2);
        int classes = (int) params.get("class_head.weight", -1, d).size(0);
        int deepMaps = params.contains(p + "encoder.cross_conv") ? (int) params.get(p + "encoder.cross_conv", -1, d)
                .size(0) : 0;
        Sa2vpConfig config = options.toConfig(backbone, classes).withPromptRank(rank)
                .withAdapter(params.contains(fc1));
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
