package org.sa2vp.model;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.Backbones;
import org.sa2vp.backbone.swin.SwinTransformerConfig;
import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.backbone.weights.CheckpointFormat;
import org.sa2vp.backbone.weights.SafetensorsReader;
import org.sa2vp.backbone.weights.SafetensorsWriter;
import org.sa2vp.backbone.weights.StateDict;
import org.sa2vp.layers.runtime.AdapterWeights;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.method.TuningMethods;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The trainable tensors of SA2VP-Swin under the authors' {@code state_dict} names and PyTorch layouts
 * ({@code docs/AUTHORS-CODE.md} §2.5), mapped onto this library's parameters both ways, as {@link AuthorsNames} for
 * the ViT (s is the interaction stage):
 * <pre>
 *   patch_embed.deep_ppt         [1, T1, r]   prompt_map            promptFactors [T1, r]
 *   patch_embed.proj_ppt.weight  [D1, r]      prompt_map            promptProjW   [r, D1] (transposed)
 *   patch_embed.proj_ppt.bias    [D1]         prompt_map            promptProjB   [1, D1]
 *   layers.s.cross_attn.n.ffn_norm.{weight,bias} [D]   layers.s.cross_attn.n.ffn  normGamma/normBeta [1, D]
 *   layers.s.cross_attn.n.ffn.fc1.weight [t, D]        layers.s.cross_attn.n.ffn  downW [D, t] (transposed)
 *   layers.s.cross_attn.n.ffn.fc1.bias   [t]           layers.s.cross_attn.n.ffn  downB [1, t]
 *   layers.s.cross_attn.n.ffn.fc2.weight [D, t]        layers.s.cross_attn.n.ffn  upW   [t, D] (transposed)
 *   layers.s.cross_attn.n.ffn.fc2.bias   [D]           layers.s.cross_attn.n.ffn  upB   [1, D]
 *   class_head.weight [C, D4], class_head.bias [C]      class_head  W [D4, C] (transposed), b [1, C]
 * </pre>
 * The files {@link #write} makes hold these tensors and the configuration JSON as metadata
 * ({@value AdapterFile#CONFIG_KEY}); the authors' code loads them with {@code load_state_dict(strict=False)}.
 */
public final class SwinAuthorsNames {

    /** Keys of the authors' trainable kinds; any other key of their full state dict is frozen backbone. */
    private static final Pattern TRAINABLE_KEY = Pattern.compile(
            "patch_embed\\.(deep_ppt|proj_ppt\\..*)|layers\\.\\d+\\.cross_attn\\.\\d+\\.ffn.*|class_head\\..*");

    private SwinAuthorsNames() {
    }

    private static List<AuthorsNames.Tensor> table(Sa2vpSwinConfig c) {
        int e = c.getBackbone().getEmbedDim(), r = c.getPromptRank(), t = c.getAdapterSize();
        int d = c.getBackbone().stageWidth(c.getInteractionStage()), classes = c.getNumClasses();
        int[] grid = c.getBackbone().stageGrid(0);
        List<AuthorsNames.Tensor> out = new ArrayList<>();
        String p = Sa2vpSwinModel.PROMPT_MAP;
        out.add(new AuthorsNames.Tensor("patch_embed.deep_ppt", new long[]{1, (long) grid[0] * grid[1], r},
                AuthorsNames.param(p, SwinPromptMap.PROMPT_FACTORS, false)));
        out.add(new AuthorsNames.Tensor("patch_embed.proj_ppt.weight", new long[]{e, r},
                AuthorsNames.param(p, SwinPromptMap.PROMPT_PROJ_W, true)));
        out.add(new AuthorsNames.Tensor("patch_embed.proj_ppt.bias", new long[]{e},
                AuthorsNames.param(p, SwinPromptMap.PROMPT_PROJ_B, false)));
        for (int n = 0; n < c.interactionDepth(); n++) {
            String a = authorsCrossAttention(c, n), v = Sa2vpSwinModel.adapter(c.getInteractionStage(), n);
            out.add(new AuthorsNames.Tensor(a + "ffn_norm.weight", new long[]{d},
                    AuthorsNames.param(v, AdapterWeights.NORM_GAMMA, false)));
            out.add(new AuthorsNames.Tensor(a + "ffn_norm.bias", new long[]{d},
                    AuthorsNames.param(v, AdapterWeights.NORM_BETA, false)));
            out.add(new AuthorsNames.Tensor(a + "ffn.fc1.weight", new long[]{t, d},
                    AuthorsNames.param(v, AdapterWeights.DOWN_W, true)));
            out.add(new AuthorsNames.Tensor(a + "ffn.fc1.bias", new long[]{t},
                    AuthorsNames.param(v, AdapterWeights.DOWN_B, false)));
            out.add(new AuthorsNames.Tensor(a + "ffn.fc2.weight", new long[]{d, t},
                    AuthorsNames.param(v, AdapterWeights.UP_W, true)));
            out.add(new AuthorsNames.Tensor(a + "ffn.fc2.bias", new long[]{d},
                    AuthorsNames.param(v, AdapterWeights.UP_B, false)));
        }
        int features = c.getBackbone().featureWidth();
        out.add(new AuthorsNames.Tensor("class_head.weight", new long[]{classes, features},
                AuthorsNames.param(Sa2vpSwinModel.HEAD, "W", true)));
        out.add(new AuthorsNames.Tensor("class_head.bias", new long[]{classes},
                AuthorsNames.param(Sa2vpSwinModel.HEAD, "b", false)));
        return out;
    }

    /** The authors' prefix of interaction block {@code n}: {@code layers.<stage>.cross_attn.<n>.}. */
    private static String authorsCrossAttention(Sa2vpSwinConfig c, int n) {
        return "layers." + c.getInteractionStage() + ".cross_attn." + n + ".";
    }

    /** Our trainable parameters under the authors' names and layouts, in their state-dict order. */
    public static Map<String, INDArray> export(ComputationGraph graph, Sa2vpSwinConfig config) {
        return export(AuthorsNames.Tables.parameters(graph), config);
    }

    /** The same table over any per-vertex tables, e.g. {@link AuthorsNames.Tables#gradients}. */
    public static Map<String, INDArray> export(AuthorsNames.Tables tables, Sa2vpSwinConfig config) {
        return AuthorsNames.export(tables, table(config));
    }

    /**
     * Loads authors-named trainable tensors: every tensor of this configuration must be present with its shape;
     * trainable-looking keys this configuration does not have are an error, the frozen backbone keys of the authors'
     * full state dict are ignored.
     */
    public static void load(ComputationGraph graph, Sa2vpSwinConfig config, StateDict params) {
        List<AuthorsNames.Tensor> table = table(config);
        Set<String> known = table.stream().map(AuthorsNames.Tensor::name).collect(Collectors.toSet());
        List<String> missing = table.stream().map(AuthorsNames.Tensor::name).filter(k -> !params.contains(k)).toList();
        if (!missing.isEmpty()) {
            throw new CheckpointException(params.source() + ": missing SA2VP-Swin tensors " + missing + " (expected "
                    + "for rank " + config.getPromptRank() + ", adapter " + config.getAdapterSize() + ", stage "
                    + config.getInteractionStage() + ", " + config.getNumClasses() + " classes)");
        }
        List<String> unexpected = params.keys().stream().filter(k -> !known.contains(k))
                .filter(k -> TRAINABLE_KEY.matcher(k).matches()).toList();
        if (!unexpected.isEmpty()) {
            throw new CheckpointException(params.source() + ": unexpected keys " + unexpected
                    + " (not trainable SA2VP-Swin tensors of this configuration)");
        }
        for (AuthorsNames.Tensor t : table) {
            t.accessor().write(graph, params.get(t.name(), t.shape()));
        }
    }

    /** Writes the trainable tensors of {@code graph} with {@code config}'s JSON as metadata. */
    public static void write(Path file, ComputationGraph graph, Sa2vpSwinConfig config) {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put(AdapterFile.FORMAT_KEY, AdapterFile.FORMAT);
        metadata.put(AdapterFile.CONFIG_KEY, config.toJson());
        SafetensorsWriter.write(file, export(graph, config), metadata);
    }

    /** Loads a {@link #write} file trained by SA2VP-Swin for the same classes and backbone architecture. */
    public static void read(Path file, ComputationGraph graph, Sa2vpSwinConfig config) {
        TuningMethods.requireTrainedBy(config, SafetensorsReader.metadata(file).get(AdapterFile.CONFIG_KEY),
                file.toString());
        load(graph, config, SafetensorsReader.read(file));
    }

    /**
     * SA2VP-Swin's trainable tensors from any file that holds them, with the configuration they run with.
     *
     * @param config  the configuration: the file's own for an adapter file, else the template with what the
     *                tensors tell
     * @param tensors the tensors under the authors' names
     */
    public record Trained(Sa2vpSwinConfig config, StateDict tensors) {

        /** An inference graph of {@link #config} with {@code backbone} frozen in it and the tensors loaded. */
        public ComputationGraph graph(BackboneCheckpoint backbone) {
            ComputationGraph graph = TuningMethods.newGraph(config);
            config.loadBackbone(graph, backbone);
            load(graph, config, tensors);
            return graph;
        }
    }

    /**
     * SA2VP-Swin parameters from any file that holds them, read once: an adapter file ({@link #write}) brings its
     * configuration, checked against {@code template}'s backbone; the authors' state dict ({@code .safetensors},
     * {@code .npz} or a {@code torch.save} {@code .pth}) takes {@code template} with what its tensors tell: rank
     * from {@code patch_embed.deep_ppt [1, T1, r]}, adapter width from the first {@code ffn.fc1.weight [t, D]} of the
     * interaction stage, classes from {@code class_head.weight [C, D4]}.
     *
     * @param template the configuration for what the tensors cannot tell (γ, window, stage, image→prompt blocks), on
     *                 the backbone the parameters will run on
     */
    public static Trained readAny(Path file, Sa2vpSwinConfig template) {
        SwinTransformerConfig backbone = template.getBackbone();
        if (CheckpointFormat.detect(file) == CheckpointFormat.SAFETENSORS
                && SafetensorsReader.metadata(file).containsKey(AdapterFile.CONFIG_KEY)) {
            TuningMethod stored = TuningMethods.trainedBy(file);
            if (!(stored instanceof Sa2vpSwinConfig swin)) {
                throw new CheckpointException(file + ": trained by " + stored.methodName() + " on backbone family "
                        + stored.getBackbone().family() + ", not SA2VP on " + backbone.family());
            }
            Backbones.requireSameArchitecture(swin.getBackbone(), backbone, file.toString());
            return new Trained(swin.withBackbone(backbone), SafetensorsReader.read(file));
        }
        StateDict params = AdapterFile.readTensors(file);
        String fc1 = authorsCrossAttention(template, 0) + "ffn.fc1.weight";
        int[] grid = backbone.stageGrid(0);
        int rank = (int) params.get("patch_embed.deep_ppt", 1, (long) grid[0] * grid[1], -1).size(2);
        int adapterSize = (int) params.get(fc1, -1, backbone.stageWidth(template.getInteractionStage())).size(0);
        int classes = (int) params.get("class_head.weight", -1, backbone.featureWidth()).size(0);
        return new Trained(template.withNumClasses(classes).withPromptRank(rank).withAdapterSize(adapterSize)
                .validated(), params);
    }

    /** The number of trainable values without the head (what the authors' count calls the backbone side). */
    public static long trainableWithoutHead(Sa2vpSwinConfig config) {
        return table(config).stream().filter(t -> !t.name().startsWith("class_head"))
                .mapToLong(t -> Arrays.stream(t.shape()).reduce(1, (a, b) -> a * b)).sum();
    }

    /** Authors' names with shapes, for {@code sa2vp info}. */
    public static Map<String, long[]> shapes(Sa2vpSwinConfig config) {
        Map<String, long[]> out = new LinkedHashMap<>();
        table(config).forEach(t -> out.put(t.name(), t.shape()));
        return out;
    }
}
