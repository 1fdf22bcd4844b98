package org.sa2vp.backbone.weights;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.IntFunction;

import static org.sa2vp.backbone.weights.TensorLayout.AS_IS;

/**
 * The Swin Transformer checkpoint namings the loaders understand, all converted to timm's (≥ 0.9) names and PyTorch
 * layouts, the library's canonical Swin state dict:
 * <pre>
 *   patch_embed.proj.{weight [D,C,P,P], bias}  patch_embed.norm.*
 *   layers.{i}.downsample.norm.* [4C]  layers.{i}.downsample.reduction.weight [2C, 4C]   (i ≥ 1: the merge that
 *                                                                                          feeds stage i)
 *   layers.{i}.blocks.{j}.norm1.*  .attn.relative_position_bias_table [(2w−1)², H]  .attn.qkv.{weight [3D,D], bias}
 *   .attn.proj.*  .norm2.*  .mlp.fc1.{weight [M,D], bias}  .mlp.fc2.*
 *   norm.*  head.fc.{weight [classes, D], bias}
 * </pre>
 * The namings differ in where a stage's blocks and the patch merging between stages live and in the block's module
 * names; each is a small set of name functions here, and the conversion builds one {@link KeyTable} for the stages
 * and depths found in the file (so a missing or unexpected key is reported as for the ViT). The
 * {@code relative_position_index} and {@code attn_mask} buffers some files hold are recomputed, not read.
 */
public enum SwinNaming {

    /** timm ≥ 0.9 {@code swin_transformer.py}: each patch merging at the start of the stage it feeds. */
    TIMM("timm Swin state dict", List.of(""), "patch_embed.proj", "patch_embed.norm",
            (stage, block) -> "layers." + stage + ".blocks." + block + ".",
            stage -> "layers." + stage + ".downsample.", "norm", "head.fc", Blocks.TIMM),

    /**
     * Microsoft's {@code Swin-Transformer} (and timm before 0.9): the patch merging at the end of the stage it
     * follows, the head {@code head}.
     */
    MICROSOFT("Microsoft Swin state dict", List.of(""), "patch_embed.proj", "patch_embed.norm",
            (stage, block) -> "layers." + stage + ".blocks." + block + ".",
            stage -> "layers." + (stage - 1) + ".downsample.", "norm", "head", Blocks.TIMM),

    /**
     * torchvision's {@code SwinTransformer} ({@code swin_t()} …): {@code features.0} the embedding (conv, permute,
     * norm), {@code features.1, 3, 5, 7} the stages, {@code features.2, 4, 6} the patch mergings.
     */
    TORCHVISION("torchvision Swin state dict", List.of(""), "features.0.0", "features.0.2",
            (stage, block) -> "features." + (2 * stage + 1) + "." + block + ".",
            stage -> "features." + 2 * stage + ".", "norm", "head", Blocks.TORCHVISION),

    /**
     * Hugging Face {@code SwinForImageClassification} ({@code swin.} prefix, {@code classifier}) or {@code SwinModel}
     * (no prefix, no head): q, k and v separate, the patch merging at the end of the stage it follows.
     */
    HUGGING_FACE("Hugging Face Swin state dict", List.of("swin.", ""), "{p}embeddings.patch_embeddings.projection",
            "{p}embeddings.norm", (stage, block) -> "{p}encoder.layers." + stage + ".blocks." + block + ".",
            stage -> "{p}encoder.layers." + (stage - 1) + ".downsample.", "{p}layernorm", "classifier",
            Blocks.HUGGING_FACE);

    /** Buffers that Swin files may hold and that are recomputed from the architecture. */
    private static final String[] BUFFERS = {".*relative_position_index", ".*attn_mask"};

    /** A block's modules in one naming: timm's module name → the file's module name(s), concatenated along axis 0. */
    private enum Blocks {
        TIMM(Map.of()),
        TORCHVISION(Map.of("mlp.fc1", List.of("mlp.0"), "mlp.fc2", List.of("mlp.3"))),
        HUGGING_FACE(Map.of("norm1", List.of("layernorm_before"),
                "attn.qkv", List.of("attention.self.query", "attention.self.key", "attention.self.value"),
                "attn.proj", List.of("attention.output.dense"), "norm2", List.of("layernorm_after"),
                "mlp.fc1", List.of("intermediate.dense"), "mlp.fc2", List.of("output.dense"),
                "attn.relative_position_bias_table", List.of("attention.self.relative_position_bias_table")));

        private final Map<String, List<String>> renamed;

        Blocks(Map<String, List<String>> renamed) {
            this.renamed = renamed;
        }

        /** The file's name(s) of timm's block module (or parameter) {@code module}. */
        List<String> of(String module) {
            return renamed.getOrDefault(module, List.of(module));
        }
    }

    /** timm's block modules with a weight and a bias, in state-dict order. */
    private static final List<String> BLOCK_MODULES = List.of("norm1", "attn.qkv", "attn.proj", "norm2", "mlp.fc1",
            "mlp.fc2");
    private static final String BIAS_TABLE = "attn.relative_position_bias_table";

    private final String format;
    private final List<String> prefixes;
    private final String projection;
    private final String embeddingNorm;
    private final BiFunction<Integer, String, String> block;
    private final IntFunction<String> merge;
    private final String finalNorm;
    private final String head;
    private final Blocks blocks;

    SwinNaming(String format, List<String> prefixes, String projection, String embeddingNorm,
               BiFunction<Integer, String, String> block, IntFunction<String> merge, String finalNorm, String head,
               Blocks blocks) {
        this.format = format;
        this.prefixes = prefixes;
        this.projection = projection;
        this.embeddingNorm = embeddingNorm;
        this.block = block;
        this.merge = merge;
        this.finalNorm = finalNorm;
        this.head = head;
        this.blocks = blocks;
    }

    /** How messages name this naming, e.g. "torchvision Swin state dict". */
    public String format() {
        return format;
    }

    /** The naming of a file with these tensor names, if it is a Swin checkpoint in a known naming. */
    public static Optional<SwinNaming> find(Collection<String> keys) {
        Set<String> names = new HashSet<>(keys);
        for (SwinNaming naming : values()) {
            if (naming.prefix(names).isPresent() && naming.distinguished(names)) {
                return Optional.of(naming);
            }
        }
        return Optional.empty();
    }

    /** The naming of {@code dict}, or a one-line error listing a few of its keys. */
    public static SwinNaming detect(StateDict dict) {
        return detect(dict.keys(), dict.source());
    }

    /** The naming of the tensor names {@code keys} of {@code source}, or a one-line error listing a few of them. */
    public static SwinNaming detect(Collection<String> keys, String source) {
        return find(keys).orElseThrow(() -> new CheckpointException(source + ": not a Swin checkpoint in a known "
                + "naming (timm, Microsoft, torchvision, Hugging Face); first keys: "
                + keys.stream().limit(5).toList()));
    }

    /** The prefix under which the file has this naming's embedding and first block, if it does. */
    private Optional<String> prefix(Set<String> names) {
        return prefixes.stream().filter(p -> names.contains(name(p, projection + ".weight"))
                && names.contains(name(p, blockModule(0, "0", "norm1").get(0) + ".weight"))).findFirst();
    }

    /**
     * What tells timm's naming from Microsoft's, which share every block name: where the first patch merging is
     * ({@code layers.0.downsample} in Microsoft's, {@code layers.1.downsample} in timm's) and, with a single stage,
     * the head ({@code head.weight} or {@code head.fc.weight}).
     */
    private boolean distinguished(Set<String> names) {
        boolean microsoftMerge = names.contains("layers.0.downsample.reduction.weight");
        boolean timmMerge = names.contains("layers.1.downsample.reduction.weight") && !microsoftMerge;
        return switch (this) {
            case TIMM -> timmMerge || (!microsoftMerge && !names.contains("head.weight"));
            case MICROSOFT -> microsoftMerge || (!timmMerge && names.contains("head.weight"));
            default -> true;
        };
    }

    private static String name(String prefix, String name) {
        return name.replace("{p}", prefix);
    }

    /** The file's names of timm's module {@code module} of block {@code index} of stage {@code stage}. */
    private List<String> blockModule(int stage, String index, String module) {
        return blocks.of(module).stream().map(m -> block.apply(stage, index) + m).toList();
    }

    /** Blocks per stage in {@code dict} (stages counted until one has no block 0). */
    public List<Integer> depths(StateDict dict) {
        Set<String> names = dict.keys();
        String p = prefix(names).orElseThrow(() -> new CheckpointException(dict.source() + ": not a " + format));
        List<Integer> depths = new ArrayList<>();
        for (int stage = 0; ; stage++) {
            int depth = 0;
            while (names.contains(name(p, blockModule(stage, Integer.toString(depth), "norm1").get(0) + ".weight"))) {
                depth++;
            }
            if (depth == 0) {
                return depths;
            }
            depths.add(depth);
        }
    }

    /**
     * Converts {@code dict} to timm names and PyTorch layouts.
     *
     * @param strict when true, keys that are neither mapped nor a recomputed buffer fail the load (listed)
     */
    public StateDict toTimm(StateDict dict, boolean strict) {
        return table(depths(dict)).toTimm(dict, strict);
    }

    /** This naming's key table for a model with {@code depths} blocks per stage. */
    KeyTable table(List<Integer> depths) {
        KeyTable table = new KeyTable(format, blockModule(0, "{i}", "norm1").get(0) + ".weight")
                .prefixes(prefixes.toArray(new String[0])).unused(BUFFERS);
        table.map("patch_embed.proj.weight", AS_IS, projection + ".weight")
                .map("patch_embed.proj.bias", AS_IS, projection + ".bias")
                .map("patch_embed.norm.weight", AS_IS, embeddingNorm + ".weight")
                .map("patch_embed.norm.bias", AS_IS, embeddingNorm + ".bias");
        for (int stage = 0; stage < depths.size(); stage++) {
            if (stage > 0) {
                String canonical = "layers." + stage + ".downsample.";
                table.map(canonical + "norm.weight", AS_IS, merge.apply(stage) + "norm.weight")
                        .map(canonical + "norm.bias", AS_IS, merge.apply(stage) + "norm.bias")
                        .map(canonical + "reduction.weight", AS_IS, merge.apply(stage) + "reduction.weight");
            }
            for (int j = 0; j < depths.get(stage); j++) {
                String canonical = "layers." + stage + ".blocks." + j + ".";
                String index = Integer.toString(j);
                for (String module : BLOCK_MODULES) {
                    table.map(canonical + module + ".weight", AS_IS, leaves(stage, index, module, ".weight"));
                    if (module.equals("attn.qkv")) {
                        table.optional(canonical + module + ".bias", AS_IS, leaves(stage, index, module, ".bias"));
                    } else {
                        table.map(canonical + module + ".bias", AS_IS, leaves(stage, index, module, ".bias"));
                    }
                }
                table.map(canonical + BIAS_TABLE, AS_IS, leaves(stage, index, BIAS_TABLE, ""));
            }
        }
        return table.map("norm.weight", AS_IS, finalNorm + ".weight").map("norm.bias", AS_IS, finalNorm + ".bias")
                .optional("head.fc.weight", AS_IS, head + ".weight").optional("head.fc.bias", AS_IS, head + ".bias");
    }

    private String[] leaves(int stage, String index, String module, String leaf) {
        return blockModule(stage, index, module).stream().map(m -> m + leaf).toArray(String[]::new);
    }
}
