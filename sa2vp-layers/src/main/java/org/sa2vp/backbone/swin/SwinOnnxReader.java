package org.sa2vp.backbone.swin;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.backbone.weights.OnnxBackboneGraph;
import org.sa2vp.backbone.weights.OnnxModel;
import org.sa2vp.backbone.weights.OnnxTensor;
import org.sa2vp.backbone.weights.OnnxWeights;
import org.sa2vp.backbone.weights.SwinNaming;
import org.sa2vp.layers.runtime.ShiftedWindows;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Recognises a Swin Transformer in an ONNX model as this library parses it ({@link OnnxModel}: torchvision, timm and
 * Microsoft exports by {@code torch.onnx.export}, opset 14-17, default constant folding) and reads it as a
 * {@link SwinCheckpoint}, through its weights as {@code VitOnnxReader} does for the ViT: the named initializers must
 * be a Swin naming's ({@link SwinNaming}), {@link OnnxWeights} recovers the Linear weights the exporter stored
 * transposed and ({@link #RELATIVE_POSITION_BIAS}) the bias tables, {@link SwinCheckpoint#of} names and infers the
 * architecture, and the graph is checked where the weights cannot tell ({@link OnnxBackboneGraph}: the image read
 * by a patch-embedding {@code Conv} with kernel equal to stride, one attention {@code Softmax} per block).
 *
 * <p>The shift masks are not read, our graph computes its own: torchvision computes them in the exported graph from
 * the input's shape, timm's non-persistent {@code attn_mask} buffers become {@code Constant} nodes, not
 * initializers, and Microsoft's persistent ones become folded initializers that {@link #SHIFT_MASK} leaves out. The
 * image size is the one the export declares for its input (square images), else the options' or the window's
 * standard one, as for a state dict; the options' size wins.
 */
final class SwinOnnxReader {

    private static final String FAMILY = "a Swin Transformer";

    /**
     * torch's exporter does not keep a block's {@code relative_position_bias_table} {@code [(2w−1)², H]}: constant
     * folding turns {@code table[relative_position_index].permute(2, 0, 1).unsqueeze(0)} into one anonymous
     * initializer {@code [1, H, N, N]} ({@code N = w²}) added to the attention scores in the attention module's
     * scope. The gather is by the fixed index ({@link ShiftedWindows#relativePositionIndex}), and every table row
     * occurs in it (query-key offsets −(w−1)..w−1 on both axes all occur in a window), so the table is recovered
     * exactly rather than the gathered bias kept: the checkpoint then has the same tensors as the state dict the
     * model was exported from, and the bias of other image sizes and of training comes from it as for any Swin
     * checkpoint. The recovered name is the module's ({@code layers.0.blocks.1.attn} for timm,
     * {@code features.1.1.attn} for torchvision) followed by {@code .relative_position_bias_table}.
     */
    static final OnnxWeights.FoldedParameter RELATIVE_POSITION_BIAS = SwinOnnxReader::unfoldRelativePositionBias;

    /**
     * Microsoft's Swin (and any module whose shift masks are persistent buffers) adds each shifted block's
     * {@code attn_mask} {@code [windows, N, N]} as {@code mask.unsqueeze(1).unsqueeze(0)}, which constant folding
     * turns into an anonymous initializer {@code [1, windows, 1, N, N]} of 0 and −100 read by an {@code Add} in
     * the attention's scope. It is no parameter (our graph computes the masks of its own image size): recognised
     * by shape and values, and left out.
     */
    static final OnnxWeights.FoldedParameter SHIFT_MASK = SwinOnnxReader::recogniseShiftMask;

    /** The score offset of token pairs from different regions in the shift masks of timm, Microsoft, torchvision. */
    private static final float MASKED = -100f;

    private SwinOnnxReader() {
    }

    /**
     * The Swin Transformer in {@code model}; every failure is one {@link CheckpointException} line naming the model
     * and, where the structure does not fit, the node and what was expected there.
     */
    static SwinCheckpoint read(OnnxModel model, CheckpointOptions options) {
        OnnxBackboneGraph.PatchEmbedding patchEmbedding = OnnxBackboneGraph.patchEmbedding(model, FAMILY);
        // From the names alone, before any tensor is converted: a ViT's export is refused here.
        SwinNaming.detect(OnnxWeights.parameterNames(model), model.source());
        OnnxWeights weights = OnnxWeights.of(model, List.of(RELATIVE_POSITION_BIAS, SHIFT_MASK));
        SwinCheckpoint checkpoint = SwinCheckpoint.of(weights.stateDict(), options.imageSize() != null ? options
                : declaredImageSize(model, patchEmbedding).map(options::withImageSize).orElse(options));
        SwinTransformerConfig config = checkpoint.config();
        patchEmbedding.requireSize(model.source(), config.getEmbedDim(), config.getPatchSize());
        OnnxBackboneGraph.requireAttentionPerBlock(model, config.getDepths().stream().mapToInt(Integer::intValue)
                .sum(), FAMILY);
        return checkpoint;
    }

    /**
     * The side of the square images the export declares for its image input ({@code [batch, C, S, S]}, as
     * {@code torch.onnx.export} writes the traced input's shape with a symbolic batch); empty when a side is
     * symbolic or the images are not square.
     */
    private static Optional<Integer> declaredImageSize(OnnxModel model, OnnxBackboneGraph.PatchEmbedding embedding) {
        long[] shape = model.graph().inputShapes().get(embedding.node().input(0));
        if (shape == null || shape.length != 4 || shape[2] <= 0 || shape[2] != shape[3]
                || shape[2] > Integer.MAX_VALUE) {
            return Optional.empty();
        }
        return Optional.of((int) shape[2]);
    }

    private static Optional<OnnxWeights.Unfolded> recogniseShiftMask(OnnxTensor folded, OnnxModel.Node reader,
                                                                     String module) {
        long[] dims = folded.dims();
        if (module == null || !reader.opType().equals("Add") || folded.rank() != 5 || dims[0] != 1 || dims[2] != 1
                || dims[3] != dims[4] || windowOf(dims[3]) < 0) {
            return Optional.empty();
        }
        for (float value : folded.toFloatArray().data().asFloat()) {
            if (value != 0f && value != MASKED) {
                return Optional.empty();
            }
        }
        return Optional.of(OnnxWeights.Unfolded.buffer("shift mask"));
    }

    /** The window side {@code w} of {@code tokens = w²} tokens per window, or -1 if that is no square. */
    private static int windowOf(long tokens) {
        long side = Math.round(Math.sqrt(tokens));
        return side > 0 && side * side == tokens && side < Integer.MAX_VALUE ? (int) side : -1;
    }

    private static Optional<OnnxWeights.Unfolded> unfoldRelativePositionBias(OnnxTensor folded, OnnxModel.Node reader,
                                                                             String module) {
        long[] dims = folded.dims();
        if (module == null || module.isEmpty() || !reader.opType().equals("Add") || folded.rank() != 4
                || dims[0] != 1 || dims[2] != dims[3]) {
            return Optional.empty();
        }
        int window = windowOf(dims[2]), heads = (int) dims[1];
        if (window < 0) {
            return Optional.empty();
        }
        int rows = (2 * window - 1) * (2 * window - 1);
        int[] index = ShiftedWindows.relativePositionIndex(window);
        float[] bias = folded.toFloatArray().data().asFloat();
        float[] table = new float[rows * heads];
        boolean[] seen = new boolean[rows];
        for (int p = 0; p < index.length; p++) {
            int row = index[p];
            for (int h = 0; h < heads; h++) {
                float value = bias[h * index.length + p];
                if (seen[row] && table[row * heads + h] != value) {
                    throw new CheckpointException(folded.name() + " " + Arrays.toString(dims) + " (read by "
                            + reader.opType() + " '" + reader.name() + "') is no relative position bias of window "
                            + window + ": head " + h + " has " + table[row * heads + h] + " and " + value + " for "
                            + "the same query-key offset (table row " + row + ")");
                }
                table[row * heads + h] = value;
            }
            seen[row] = true;
        }
        INDArray value = Nd4j.create(table, new long[]{rows, heads}, 'c');
        return Optional.of(new OnnxWeights.Unfolded(module + ".relative_position_bias_table", value,
                "gathered by the relative position index of window " + window + ", table [" + rows + ", " + heads
                        + "] recovered"));
    }
}
