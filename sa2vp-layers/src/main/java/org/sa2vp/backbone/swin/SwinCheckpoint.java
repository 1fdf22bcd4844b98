package org.sa2vp.backbone.swin;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.backbone.weights.CheckpointFormat;
import org.sa2vp.backbone.weights.NpzReader;
import org.sa2vp.backbone.weights.OnnxModel;
import org.sa2vp.backbone.weights.PthReader;
import org.sa2vp.backbone.weights.SafetensorsReader;
import org.sa2vp.backbone.weights.StateDict;
import org.sa2vp.backbone.weights.SwinNaming;
import org.sa2vp.backbone.weights.TimmBlockWeights;
import org.sa2vp.backbone.weights.keras.KerasBackboneImports;
import org.sa2vp.layers.Parameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.sa2vp.backbone.weights.TimmBlockWeights.row;

/**
 * A Swin Transformer checkpoint in timm's names and PyTorch layouts (see {@link SwinNaming}) and its architecture,
 * as far as the weights tell it: embed dim, channels and patch (the embedding's kernel), depths (blocks per stage),
 * heads per stage and the window (the relative position bias tables {@code [(2w−1)², H]}), MLP ratio, qkv bias,
 * classes. The image size is not stored: it comes from the options, or is the standard one of the window (224 for
 * window 7, 384 for window 12, as in every timm variant), logged.
 *
 * @param config  the architecture, with the options applied
 * @param weights timm-named tensors
 */
public record SwinCheckpoint(SwinTransformerConfig config, StateDict weights) implements BackboneCheckpoint {

    private static final Logger log = LoggerFactory.getLogger(SwinCheckpoint.class);
    /** Image size by window of timm's variants, assumed when the options give none. */
    private static final Map<Integer, Integer> STANDARD_IMAGE_SIZE = Map.of(7, 224, 12, 384);

    /** {@code checkpoint} as a Swin checkpoint, or a one-line error naming its family and source. */
    public static SwinCheckpoint of(BackboneCheckpoint checkpoint) {
        if (checkpoint instanceof SwinCheckpoint swin) {
            return swin;
        }
        throw new IllegalArgumentException(checkpoint.source() + ": a " + checkpoint.config().family()
                + " checkpoint, where a Swin Transformer (family '" + SwinFamily.NAME + "') is needed");
    }

    /**
     * Reads a {@code .safetensors}, {@code .npz} or {@code torch.save} {@code .pth} state dict in any known naming,
     * a torchvision, timm or Microsoft ONNX export ({@link SwinOnnxReader}), or a Keras {@code .h5} Swin (imported
     * by the registered Keras layout, {@link KerasBackboneImports}, and read as {@link SwinFamily#fromGraph} reads
     * the graph, its classifier head included), and infers the architecture.
     */
    public static SwinCheckpoint read(Path file, CheckpointOptions options) {
        CheckpointFormat format = CheckpointFormat.detect(file);
        return switch (format) {
            case NPZ -> of(NpzReader.readNpz(file), options);
            case SAFETENSORS -> of(SafetensorsReader.read(file), options);
            case PTH -> of(PthReader.read(file), options);
            case ONNX -> SwinOnnxReader.read(OnnxModel.read(file), options);
            case KERAS_H5 -> SwinGraphReader.readImported(KerasBackboneImports.require(file, SwinFamily.NAME)
                    .importModel(file), file.getFileName().toString(), options);
        };
    }

    /** Converts a raw state dict (any known naming) and infers the architecture. */
    public static SwinCheckpoint of(StateDict raw, CheckpointOptions options) {
        return infer(SwinNaming.detect(raw).toTimm(raw, options.strict()), options);
    }

    /** The architecture of timm-named weights. */
    public static SwinCheckpoint infer(StateDict timm, CheckpointOptions options) {
        String src = timm.source();
        INDArray proj = timm.get("patch_embed.proj.weight", -1, -1, -1, -1);
        int embed = (int) proj.size(0), channels = (int) proj.size(1), patch = (int) proj.size(2);
        if (proj.size(3) != patch) {
            throw new CheckpointException(src + ": non-square patches " + proj.size(2) + "x" + proj.size(3)
                    + " are not supported");
        }
        List<Integer> depths = new ArrayList<>();
        List<Integer> heads = new ArrayList<>();
        int window = 0;
        for (int stage = 0; timm.contains(blockPrefix(stage, 0) + "norm1.weight"); stage++) {
            int depth = 0;
            while (timm.contains(blockPrefix(stage, depth) + "norm1.weight")) {
                depth++;
            }
            depths.add(depth);
            long width = timm.get(blockPrefix(stage, 0) + "norm1.weight").length();
            if (width != (long) embed << stage) {
                throw new CheckpointException(src + ": stage " + stage + " is " + width + " wide, where a Swin "
                        + "Transformer with embed dim " + embed + " has " + ((long) embed << stage));
            }
            INDArray table = timm.get(blockPrefix(stage, 0) + "attn.relative_position_bias_table", -1, -1);
            heads.add((int) table.size(1));
            int side = (int) Math.round((Math.sqrt(table.size(0)) + 1) / 2);
            if ((long) (2 * side - 1) * (2 * side - 1) != table.size(0) || (window != 0 && side != window)) {
                throw new CheckpointException(src + ": " + timm.describe(blockPrefix(stage, 0)
                        + "attn.relative_position_bias_table") + " has " + table.size(0) + " rows, where a window "
                        + (window == 0 ? "w" : Integer.toString(window)) + " shared by all stages has (2w-1)^2");
            }
            window = side;
        }
        if (options.numHeads() != null && options.numHeads() != heads.get(0).intValue()) {
            throw new CheckpointException(src + ": --heads " + options.numHeads() + " contradicts the checkpoint, "
                    + "whose relative position bias tables give " + heads.get(0) + " heads in the first stage");
        }
        int mlp = (int) timm.get(blockPrefix(0, 0) + "mlp.fc1.weight", -1, embed).size(0);
        int lastWidth = embed << (depths.size() - 1);
        int classes = timm.contains("head.fc.weight") ? (int) timm.get("head.fc.weight", -1, lastWidth).size(0) : 0;
        SwinTransformerConfig config = SwinTransformerConfig.builder().name(src).inChannels(channels)
                .patchSize(patch).embedDim(embed).depths(depths).numHeads(heads).windowSize(window)
                .mlpRatio((double) mlp / embed).qkvBias(timm.contains(blockPrefix(0, 0) + "attn.qkv.bias"))
                .numClasses(classes).build();
        int image = imageSize(src, window, options);
        config = config.withImageHeight(image).withImageWidth(image);
        try {
            return new SwinCheckpoint(config.validated(), timm);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(src + ": " + e.getMessage());
        }
    }

    private static int imageSize(String src, int window, CheckpointOptions options) {
        if (options.imageSize() != null) {
            return options.imageSize();
        }
        Integer standard = STANDARD_IMAGE_SIZE.get(window);
        if (standard == null) {
            throw new CheckpointException(src + ": a Swin checkpoint does not store its image size and window "
                    + window + " is not a standard one (7: 224, 12: 384); pass --image-size S");
        }
        log.info("{}: assuming {}x{} images (standard for window {}); pass --image-size to override", src, standard,
                standard, window);
        return standard;
    }

    private static String blockPrefix(int stage, int block) {
        return SwinTransformer.block(stage, block) + ".";
    }

    private static String downsamplePrefix(int stage) {
        return SwinTransformer.downsample(stage) + ".";
    }

    /** A new graph of this architecture holding the checkpoint's weights, head included. */
    public ComputationGraph toGraph() {
        ComputationGraph graph = SwinTransformer.create(config);
        assignTo(graph, config);
        return graph;
    }

    /**
     * Copies the weights into a Swin graph of configuration {@code target} (same widths, depths, heads and window;
     * the image size may differ). The classifier head is copied when the checkpoint has one for the same number of
     * classes; a head for another task keeps its fresh initialisation.
     */
    public void assignTo(ComputationGraph graph, SwinTransformerConfig target) {
        assignBackbone(graph, target);
        if (target.getNumClasses() > 0 && weights.contains("head.fc.weight")) {
            if (target.getNumClasses() != config.getNumClasses()) {
                log.info("{}: checkpoint head has {} classes, the graph {}; the graph's head keeps its "
                        + "initialisation", weights.source(), config.getNumClasses(), target.getNumClasses());
                return;
            }
            int classes = target.getNumClasses(), d = target.featureWidth();
            Parameters.assign(graph, SwinTransformer.HEAD, "W", weights.get("head.fc.weight", classes, d).transpose());
            Parameters.assign(graph, SwinTransformer.HEAD, "b", weights.get("head.fc.bias", classes));
        }
    }

    /** Embedding, stages and final norm into a {@link SwinTransformer} graph, its head left as initialised. */
    public void assignBackbone(ComputationGraph graph, SwinTransformerConfig target) {
        assignEmbedding(weights, Parameters.of(graph, SwinTransformer.EMBEDDING),
                "Vertex '" + SwinTransformer.EMBEDDING + "'", target.getEmbedDim(), target.getInChannels(),
                target.getPatchSize());
        for (int stage = 0; stage < target.numStages(); stage++) {
            if (stage > 0) {
                String vertex = SwinTransformer.downsample(stage);
                assignMerging(weights, downsamplePrefix(stage), Parameters.of(graph, vertex), vertex,
                        target.stageWidth(stage - 1));
            }
            for (int b = 0; b < target.getDepths().get(stage); b++) {
                String vertex = SwinTransformer.block(stage, b);
                assignBlock(weights, blockPrefix(stage, b), Parameters.of(graph, vertex), vertex,
                        target.stageWidth(stage), target.stageMlpSize(stage), target.getWindowSize(),
                        target.getNumHeads().get(stage));
            }
        }
        assignFinalNorm(weights, Parameters.of(graph, SwinTransformer.FEATURES), SwinTransformer.FEATURES,
                target.featureWidth());
    }

    // The layouts of one layer each, between timm's tensors and a parameter table of the layer (used for graphs built
    // here, for layers imported from Keras and, in reverse, for reading a graph back); owner names the table.

    /** {@code patch_embed.*} into a {@link SwinPatchEmbedding}'s table: the OIHW kernel as {@code [C·P·P, D]}. */
    public static void assignEmbedding(StateDict w, Map<String, INDArray> table, String owner, int d, int c, int p) {
        Parameters.assign(table, owner, SwinPatchEmbedding.PATCH_W, w.get("patch_embed.proj.weight", d, c, p, p)
                .reshape('c', d, (long) c * p * p).transpose());
        Parameters.assign(table, owner, SwinPatchEmbedding.PATCH_B, row(w.get("patch_embed.proj.bias", d)));
        Parameters.assign(table, owner, SwinPatchEmbedding.NORM_GAMMA, row(w.get("patch_embed.norm.weight", d)));
        Parameters.assign(table, owner, SwinPatchEmbedding.NORM_BETA, row(w.get("patch_embed.norm.bias", d)));
    }

    /** {@code <prefix>norm.*, reduction.weight} into a {@link PatchMerging}'s table ({@code before}: input width). */
    public static void assignMerging(StateDict w, String prefix, Map<String, INDArray> table, String owner,
                                     int before) {
        Parameters.assign(table, owner, PatchMerging.NORM_GAMMA, row(w.get(prefix + "norm.weight", 4L * before)));
        Parameters.assign(table, owner, PatchMerging.NORM_BETA, row(w.get(prefix + "norm.bias", 4L * before)));
        Parameters.assign(table, owner, PatchMerging.REDUCTION_W,
                w.get(prefix + "reduction.weight", 2L * before, 4L * before).transpose());
    }

    /** A block under {@code prefix} into a {@link SwinBlock}'s table, bias table {@code [(2w−1)², H]} included. */
    public static void assignBlock(StateDict w, String prefix, Map<String, INDArray> table, String owner, int width,
                                   int mlp, int window, int heads) {
        TimmBlockWeights.assign(w, prefix, table, owner, width, mlp);
        long rows = (long) (2 * window - 1) * (2 * window - 1);
        Parameters.assign(table, owner, SwinBlock.RELATIVE_POSITION_BIAS,
                w.get(prefix + "attn.relative_position_bias_table", rows, heads));
    }

    /** {@code norm.*} into a {@link LayerNormMeanPooling}'s table. */
    public static void assignFinalNorm(StateDict w, Map<String, INDArray> table, String owner, int width) {
        Parameters.assign(table, owner, LayerNormMeanPooling.NORM_GAMMA, row(w.get("norm.weight", width)));
        Parameters.assign(table, owner, LayerNormMeanPooling.NORM_BETA, row(w.get("norm.bias", width)));
    }

    /** The inverse of {@link #assignEmbedding}. */
    static void exportEmbedding(Map<String, INDArray> table, int d, int c, int p, Map<String, INDArray> out) {
        out.put("patch_embed.proj.weight", table.get(SwinPatchEmbedding.PATCH_W).transpose().dup('c')
                .reshape('c', d, c, p, p));
        out.put("patch_embed.proj.bias", table.get(SwinPatchEmbedding.PATCH_B).reshape(d).dup());
        out.put("patch_embed.norm.weight", table.get(SwinPatchEmbedding.NORM_GAMMA).reshape(d).dup());
        out.put("patch_embed.norm.bias", table.get(SwinPatchEmbedding.NORM_BETA).reshape(d).dup());
    }

    /** The inverse of {@link #assignMerging} for the merging that feeds stage {@code stage}. */
    static void exportMerging(Map<String, INDArray> table, int stage, int before, Map<String, INDArray> out) {
        long wide = 4L * before;
        String k = downsamplePrefix(stage);
        out.put(k + "norm.weight", table.get(PatchMerging.NORM_GAMMA).reshape(wide).dup());
        out.put(k + "norm.bias", table.get(PatchMerging.NORM_BETA).reshape(wide).dup());
        out.put(k + "reduction.weight", table.get(PatchMerging.REDUCTION_W).transpose().dup('c'));
    }

    /** The inverse of {@link #assignBlock} for block {@code block} of stage {@code stage}. */
    static void exportBlock(Map<String, INDArray> table, int stage, int block, boolean qkvBias, int width,
                            Map<String, INDArray> out) {
        String k = blockPrefix(stage, block);
        TimmBlockWeights.export(table, qkvBias, width, k, out);
        out.put(k + "attn.relative_position_bias_table", table.get(SwinBlock.RELATIVE_POSITION_BIAS).dup());
    }

    /** The inverse of {@link #assignFinalNorm}. */
    static void exportFinalNorm(Map<String, INDArray> table, int width, Map<String, INDArray> out) {
        out.put("norm.weight", table.get(LayerNormMeanPooling.NORM_GAMMA).reshape(width).dup());
        out.put("norm.bias", table.get(LayerNormMeanPooling.NORM_BETA).reshape(width).dup());
    }

    /** The weights of a Swin graph as a timm-named state dict (PyTorch layouts): the inverse of {@link #assignTo}. */
    public static StateDict export(ComputationGraph graph, SwinTransformerConfig config) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        exportEmbedding(Parameters.of(graph, SwinTransformer.EMBEDDING), config.getEmbedDim(), config.getInChannels(),
                config.getPatchSize(), out);
        for (int stage = 0; stage < config.numStages(); stage++) {
            if (stage > 0) {
                exportMerging(Parameters.of(graph, SwinTransformer.downsample(stage)), stage,
                        config.stageWidth(stage - 1), out);
            }
            for (int b = 0; b < config.getDepths().get(stage); b++) {
                exportBlock(Parameters.of(graph, SwinTransformer.block(stage, b)), stage, b, config.isQkvBias(),
                        config.stageWidth(stage), out);
            }
        }
        exportFinalNorm(Parameters.of(graph, SwinTransformer.FEATURES), config.featureWidth(), out);
        if (config.getNumClasses() > 0) {
            Map<String, INDArray> head = Parameters.of(graph, SwinTransformer.HEAD);
            out.put("head.fc.weight", head.get("W").transpose().dup('c'));
            out.put("head.fc.bias", head.get("b").reshape(config.getNumClasses()).dup());
        }
        return new StateDict("Swin graph", out);
    }
}
