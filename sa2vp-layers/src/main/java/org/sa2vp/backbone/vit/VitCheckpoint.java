package org.sa2vp.backbone.vit;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.backbone.weights.StateDict;
import org.sa2vp.backbone.weights.TimmBlockWeights;
import org.sa2vp.backbone.weights.VitNaming;
import org.sa2vp.layers.Parameters;
import org.sa2vp.layers.runtime.BlockWeights;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * A ViT checkpoint in timm names and PyTorch layouts (see {@link VitNaming}) and its architecture, as far as
 * the weights tell it: width, depth, patch size, grid, channels, MLP width, qkv bias, classes. The number of heads
 * comes from the file where it is stored (Google's per-head kernels, ONNX graphs) or from the options; for the
 * standard widths (192, 384, 768, 1024, 1280: 64-wide heads) it is assumed and logged.
 *
 * @param config     the architecture, with the options applied (image size, eps, dropout)
 * @param weights    timm-named tensors
 * @param sourceGrid the checkpoint's patch grid {@code {height, width}} (position embedding)
 * @param alignment  how the position embedding is resized when the configured grid differs
 */
public record VitCheckpoint(VisionTransformerConfig config, StateDict weights, int[] sourceGrid,
                            PositionEmbeddingResize.Alignment alignment) implements BackboneCheckpoint {

    private static final Logger log = LoggerFactory.getLogger(VitCheckpoint.class);
    private static final Map<Integer, Integer> STANDARD_HEADS = Map.of(192, 3, 384, 6, 768, 12, 1024, 16, 1280, 16);

    /** What a checkpoint cannot tell, and choices about how to use it. Null fields mean "from the file". */
    public record Options(Integer numHeads, Integer imageSize, Double layerNormEps, double dropout,
                          PositionEmbeddingResize.Alignment alignment, boolean strict) {
        public static Options defaults() {
            return new Options(null, null, null, 0.0, PositionEmbeddingResize.Alignment.ALIGN_CORNERS, true);
        }

        public Options withNumHeads(Integer heads) {
            return new Options(heads, imageSize, layerNormEps, dropout, alignment, strict);
        }

        public Options withImageSize(Integer size) {
            return new Options(numHeads, size, layerNormEps, dropout, alignment, strict);
        }

        public Options withLayerNormEps(Double eps) {
            return new Options(numHeads, imageSize, eps, dropout, alignment, strict);
        }

        public Options withDropout(double p) {
            return new Options(numHeads, imageSize, layerNormEps, p, alignment, strict);
        }

        public Options withAlignment(PositionEmbeddingResize.Alignment a) {
            return new Options(numHeads, imageSize, layerNormEps, dropout, a, strict);
        }

        public Options withStrict(boolean s) {
            return new Options(numHeads, imageSize, layerNormEps, dropout, alignment, s);
        }
    }

    /** {@code checkpoint} as a ViT checkpoint, or a one-line error naming its family and source. */
    public static VitCheckpoint of(BackboneCheckpoint checkpoint) {
        if (checkpoint instanceof VitCheckpoint vit) {
            return vit;
        }
        throw new IllegalArgumentException(checkpoint.source() + ": a " + checkpoint.config().family()
                + " checkpoint, where a ViT (family '" + VitFamily.NAME + "') is needed");
    }

    /** Reads any supported checkpoint file (format from its first bytes) and infers the architecture. */
    public static VitCheckpoint read(java.nio.file.Path file, Options options) {
        return switch (org.sa2vp.backbone.weights.CheckpointFormat.detect(file)) {
            case NPZ -> of(org.sa2vp.backbone.weights.NpzReader.readNpz(file), OptionalInt.empty(), options);
            case SAFETENSORS -> of(org.sa2vp.backbone.weights.SafetensorsReader.read(file), OptionalInt.empty(),
                    options);
            case PTH -> of(org.sa2vp.backbone.weights.PthReader.read(file), OptionalInt.empty(), options);
            case ONNX -> VitOnnxReader.read(org.sa2vp.backbone.weights.OnnxModel.read(file), options);
            case KERAS_H5 -> readKeras(file, options);
        };
    }

    /**
     * A Keras {@code .h5} ViT through its key table ({@code KerasVisionTransformer.toStateDict}), once its layer
     * classes are found to be the ViT's layout rather than another family's or none ({@link KerasVitImport}).
     */
    private static VitCheckpoint readKeras(java.nio.file.Path file, Options options) {
        org.sa2vp.backbone.weights.keras.KerasBackboneImports.require(file, VitFamily.NAME);
        return of(org.sa2vp.backbone.weights.keras.KerasVisionTransformer.toStateDict(file),
                org.sa2vp.backbone.weights.keras.KerasVisionTransformer.numHeads(file), options);
    }

    /**
     * Converts a raw state dict (any known naming) and infers the architecture.
     *
     * @param fileHeads heads stored in the file's graph (ONNX), or empty
     */
    public static VitCheckpoint of(StateDict raw, OptionalInt fileHeads, Options options) {
        VitNaming naming = VitNaming.detect(raw);
        StateDict timm = naming.toTimm(raw, options.strict());
        OptionalInt stored = naming.numHeads(raw);
        if (stored.isEmpty()) {
            stored = fileHeads;
        }
        return infer(timm, stored, options);
    }

    /** Architecture from timm-named weights. */
    public static VitCheckpoint infer(StateDict timm, OptionalInt storedHeads, Options options) {
        String src = timm.source();
        INDArray proj = timm.get("patch_embed.proj.weight", -1, -1, -1, -1);
        int width = (int) proj.size(0), channels = (int) proj.size(1), patch = (int) proj.size(2);
        if (proj.size(3) != patch) {
            throw new CheckpointException(src + ": non-square patches " + proj.size(2) + "x" + proj.size(3)
                    + " are not supported");
        }
        boolean classToken = timm.contains("cls_token");
        INDArray pos = timm.get("pos_embed", 1, -1, width);
        int patches = (int) pos.size(1) - (classToken ? 1 : 0);
        int side = (int) Math.round(Math.sqrt(patches));
        if (side * side != patches) {
            throw new CheckpointException(src + ": position embedding has " + patches + " patch positions, "
                    + "expected a square grid");
        }
        int depth = 0;
        while (timm.contains("blocks." + depth + ".norm1.weight")) {
            depth++;
        }
        int mlp = (int) timm.get("blocks.0.mlp.fc1.weight", -1, width).size(0);
        int heads = resolveHeads(src, width, storedHeads, options.numHeads());
        int classes = timm.contains("head.weight") ? (int) timm.get("head.weight", -1, width).size(0) : 0;
        int image = options.imageSize() != null ? options.imageSize() : side * patch;
        VisionTransformerConfig config = VisionTransformerConfig.builder()
                .name(src).inChannels(channels).imageHeight(image).imageWidth(image).patchSize(patch)
                .hiddenSize(width).depth(depth).numHeads(heads).mlpSize(mlp)
                .layerNormEps(options.layerNormEps() != null ? options.layerNormEps() : 1e-6)
                .classToken(classToken).qkvBias(timm.contains("blocks.0.attn.qkv.bias"))
                .pooling(classToken ? TokenPooling.CLASS_TOKEN : TokenPooling.MEAN)
                .numClasses(classes).dropout(options.dropout()).build();
        try {
            config.validated();
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(src + ": " + e.getMessage());
        }
        return new VitCheckpoint(config, timm, new int[]{side, side}, options.alignment());
    }

    private static int resolveHeads(String src, int width, OptionalInt stored, Integer requested) {
        if (stored.isPresent()) {
            if (requested != null && requested != stored.getAsInt()) {
                throw new CheckpointException(src + ": --heads " + requested + " contradicts the checkpoint, which "
                        + "stores " + stored.getAsInt() + " attention heads");
            }
            return stored.getAsInt();
        }
        if (requested != null) {
            if (requested <= 0 || width % requested != 0) {
                throw new CheckpointException(src + ": --heads " + requested + " does not divide the width "
                        + width);
            }
            return requested;
        }
        Integer standard = STANDARD_HEADS.get(width);
        if (standard == null) {
            throw new CheckpointException(src + ": the number of attention heads is not stored in this file and "
                    + "width " + width + " is not a standard ViT width; pass --heads N");
        }
        log.info("{}: assuming {} attention heads (64 wide, standard for width {}); pass --heads to override", src,
                standard, width);
        return standard;
    }

    /** A new graph of this architecture holding the checkpoint's weights. */
    public ComputationGraph toGraph() {
        ComputationGraph graph = VisionTransformer.create(config);
        assignTo(graph, config);
        return graph;
    }

    /**
     * Copies the weights into a ViT graph of configuration {@code target} (same width, depth, patch size; the
     * image size may differ: the position embedding is then resized bilinearly). The classifier head is copied
     * when the checkpoint has one for the same number of classes; a head for another task (a linear probe on a
     * new label set) keeps its fresh initialisation.
     */
    public void assignTo(ComputationGraph graph, VisionTransformerConfig target) {
        assignBackbone(graph, target);
        if (target.getNumClasses() > 0 && weights.contains("head.weight")
                && target.getNumClasses() != config.getNumClasses()) {
            log.info("{}: checkpoint head has {} classes, the graph {}; the graph's head keeps its initialisation",
                    weights.source(), config.getNumClasses(), target.getNumClasses());
        } else if (target.getNumClasses() > 0 && weights.contains("head.weight")) {
            int classes = target.getNumClasses(), d = target.getHiddenSize();
            Parameters.assign(graph, VisionTransformer.HEAD, "W", weights.get("head.weight", classes, d).transpose());
            Parameters.assign(graph, VisionTransformer.HEAD, "b", weights.get("head.bias", classes));
        }
    }

    /**
     * Embedding, blocks and final norm into a {@link VisionTransformer} graph, leaving its head as initialised (a
     * new task's head must not start from the pretraining classes, even when their number matches).
     */
    public void assignBackbone(ComputationGraph graph, VisionTransformerConfig target) {
        assignEmbedding(Parameters.of(graph, VisionTransformer.EMBEDDING), VisionTransformer.EMBEDDING, target);
        for (int i = 0; i < target.getDepth(); i++) {
            assignBlock(i, Parameters.of(graph, VisionTransformer.block(i)), VisionTransformer.block(i), target);
        }
        assignFinalNorm(Parameters.of(graph, VisionTransformer.FEATURES), VisionTransformer.FEATURES, target);
    }

    /**
     * Patch kernel, class token and position embedding (resized to the target grid) into a parameter table with
     * {@link PatchEmbedding}'s names (also used by the SA2VP embedding).
     */
    public void assignEmbedding(Map<String, INDArray> table, String owner, VisionTransformerConfig target) {
        int d = target.getHiddenSize(), p = target.getPatchSize(), c = target.getInChannels();
        StateDict w = weights;
        Parameters.assign(table, owner, PatchEmbedding.PATCH_W,
                w.get("patch_embed.proj.weight", d, c, p, p).reshape('c', d, (long) c * p * p).transpose());
        Parameters.assign(table, owner, PatchEmbedding.PATCH_B,
                TimmBlockWeights.row(w.get("patch_embed.proj.bias", d)));
        if (target.isClassToken()) {
            Parameters.assign(table, owner, PatchEmbedding.CLASS_TOKEN,
                    TimmBlockWeights.row(w.get("cls_token", 1, 1, d)));
        }
        INDArray pos = w.get("pos_embed", 1, -1, d);
        Parameters.assign(table, owner, PatchEmbedding.POSITION_EMBEDDING, PositionEmbeddingResize.resize(
                pos.reshape('c', pos.size(1), d), target.isClassToken(), sourceGrid[0], sourceGrid[1],
                target.gridHeight(), target.gridWidth(), alignment));
    }

    /** Block {@code index} into a parameter table with {@link BlockWeights#NAMES} (x·W layouts). */
    public void assignBlock(int index, Map<String, INDArray> table, String owner, VisionTransformerConfig target) {
        TimmBlockWeights.assign(weights, "blocks." + index + ".", table, owner, target.getHiddenSize(),
                target.effectiveMlpSize());
    }

    /** The final LayerNorm into {@code normGamma}/{@code normBeta} of a parameter table. */
    public void assignFinalNorm(Map<String, INDArray> table, String owner, VisionTransformerConfig target) {
        int d = target.getHiddenSize();
        Parameters.assign(table, owner, PooledLayerNorm.NORM_GAMMA,
                TimmBlockWeights.row(weights.get("norm.weight", d)));
        Parameters.assign(table, owner, PooledLayerNorm.NORM_BETA, TimmBlockWeights.row(weights.get("norm.bias", d)));
    }

    /** The weights of a ViT graph as a timm-named state dict (PyTorch layouts): the inverse of {@link #assignTo}. */
    public static StateDict export(ComputationGraph graph, VisionTransformerConfig config) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        int d = config.getHiddenSize();
        exportEmbedding(Parameters.of(graph, VisionTransformer.EMBEDDING), config.isClassToken(),
                config.getInChannels(), config.getPatchSize(), d, out);
        for (int i = 0; i < config.getDepth(); i++) {
            exportBlock(i, VisionTransformer.blockWeights(graph, i), config.isQkvBias(), d, out);
        }
        exportFinalNorm(Parameters.of(graph, VisionTransformer.FEATURES), d, out);
        if (config.getNumClasses() > 0) {
            Map<String, INDArray> head = Parameters.of(graph, VisionTransformer.HEAD);
            out.put("head.weight", head.get("W").transpose().dup('c'));
            out.put("head.bias", head.get("b").reshape(config.getNumClasses()).dup());
        }
        return new StateDict("ViT graph", out);
    }

    /**
     * {@link PatchEmbedding}'s parameters ({@code patchW [C·P·P, D]}, {@code patchB}, {@code classToken},
     * {@code positionEmbedding [T, D]}) into {@code out} under timm's names: the inverse of {@link #assignEmbedding}.
     */
    static void exportEmbedding(Map<String, INDArray> e, boolean classToken, int channels, int patch, int d,
                                Map<String, INDArray> out) {
        if (classToken) {
            out.put("cls_token", e.get(PatchEmbedding.CLASS_TOKEN).reshape(1, 1, d).dup());
        }
        INDArray pos = e.get(PatchEmbedding.POSITION_EMBEDDING);
        out.put("pos_embed", pos.reshape(1, pos.size(0), d).dup());
        out.put("patch_embed.proj.weight", e.get(PatchEmbedding.PATCH_W).transpose().dup('c')
                .reshape('c', d, channels, patch, patch));
        out.put("patch_embed.proj.bias", e.get(PatchEmbedding.PATCH_B).reshape(d).dup());
    }

    /** Block {@code index}'s parameters ({@link BlockWeights#NAMES}) into {@code out}: the inverse of {@link #assignBlock}. */
    static void exportBlock(int index, Map<String, INDArray> b, boolean qkvBias, int d, Map<String, INDArray> out) {
        TimmBlockWeights.export(b, qkvBias, d, "blocks." + index + ".", out);
    }

    /** {@link PooledLayerNorm}'s {@code normGamma}/{@code normBeta} as {@code norm.weight}/{@code norm.bias}. */
    static void exportFinalNorm(Map<String, INDArray> norm, int d, Map<String, INDArray> out) {
        out.put("norm.weight", norm.get(PooledLayerNorm.NORM_GAMMA).reshape(d).dup());
        out.put("norm.bias", norm.get(PooledLayerNorm.NORM_BETA).reshape(d).dup());
    }
}
