package org.sa2vp.backbone.swin;

import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.GraphWalk;
import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.backbone.weights.StateDict;
import org.sa2vp.layers.Parameters;
import org.sa2vp.layers.runtime.ShiftedWindows;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static org.sa2vp.backbone.GraphWalk.fail;

/**
 * Recognises a Swin Transformer in a DL4J {@link ComputationGraph} the user already holds and reads it as a
 * {@link SwinCheckpoint} (timm names, PyTorch layouts, the architecture from the layer configurations), so that
 * tuning methods can be attached to it. Walked from the one input along the data flow (vertex names do not
 * matter): {@link SwinPatchEmbedding} → per stage, from the second on, a {@link PatchMerging}, then
 * {@link SwinBlock}s → {@link LayerNormMeanPooling}. This is the graph {@link SwinTransformer} builds and the one a
 * Keras Swin imported by {@code KerasSwinTransformer.importModel} gives. Dropout layers are passed over; what follows
 * the pooled norm (a classifier head) is ignored by {@link #read} (methods bring their own) and read by
 * {@link #readImported}, a model file's route. The first vertex that does not fit fails in one line naming it,
 * its layer type and what was expected there.
 */
final class SwinGraphReader {

    /** Where the weights came from, in messages and as the state dict's source. */
    static final String SOURCE = "DL4J graph";

    private final ComputationGraph graph;
    private final GraphWalk walk;
    private final Map<String, INDArray> timm = new LinkedHashMap<>();
    private final TreeSet<Double> epsilons = new TreeSet<>();

    private SwinGraphReader(ComputationGraph graph) {
        this.graph = graph;
        this.walk = new GraphWalk(graph, GraphWalk::isDropout);
    }

    /**
     * The Swin in {@code graph} as a checkpoint. {@code options}: heads must agree with the first stage's; an image
     * size replaces the graph's (Swin has no position embedding to resize).
     *
     * @throws IllegalArgumentException one line naming the first vertex that is not where a Swin has it
     */
    static SwinCheckpoint read(ComputationGraph graph, CheckpointOptions options) {
        return new SwinGraphReader(graph).read(SOURCE, false, options);
    }

    /**
     * A Swin model file imported as a graph (a Keras {@code .h5}) as a checkpoint of that file: {@link #read}'s
     * configuration and tensors, named after {@code file}, with the classifier head as well when the graph ends in
     * one (a {@code DenseLayer} [features → classes] without activation, read as timm's {@code head.fc}), so that
     * the file runs as its model does.
     *
     * @throws CheckpointException one line naming the file and the first vertex that is not where a Swin has it
     */
    static SwinCheckpoint readImported(ComputationGraph graph, String file, CheckpointOptions options) {
        try {
            return new SwinGraphReader(graph).read(file, true, options);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file + ": " + e.getMessage(), e);
        }
    }

    /** {@code source} names the configuration and the tensors; {@code withHead}: read a head after the norm. */
    private SwinCheckpoint read(String source, boolean withHead, CheckpointOptions options) {
        String vertex = walk.firstVertex("a Swin");
        if (!(walk.layer(vertex) instanceof SwinPatchEmbedding embedding)) {
            throw walk.unexpected(vertex, "the patch embedding (" + SwinPatchEmbedding.class.getSimpleName() + ")");
        }
        int d = embedding.getHiddenSize(), patch = embedding.getPatchSize();
        SwinCheckpoint.exportEmbedding(Parameters.of(graph, vertex), d, embedding.getInChannels(), patch, timm);
        epsilons.add(embedding.getLayerNormEps());
        SwinTransformerConfig shape = SwinTransformerConfig.builder().imageHeight(embedding.getImageHeight())
                .imageWidth(embedding.getImageWidth()).patchSize(patch).embedDim(d).build();

        List<Integer> depths = new ArrayList<>();
        List<Integer> heads = new ArrayList<>();
        int window = 0, mlp = 0;
        Boolean qkvBias = null;
        double dropPath = 0;
        int stage = 0, depth = 0, classes;
        while (true) {
            vertex = walk.next(vertex, "a Swin block, a patch merging or the final norm");
            Layer layer = walk.layer(vertex);
            int width = shape.stageWidth(stage);
            int[] grid = shape.stageGrid(stage);
            if (layer instanceof SwinBlock block) {
                window = window == 0 ? block.getWindowSize() : window;
                mlp = mlp == 0 ? block.getMlpSize() * d / width : mlp;
                qkvBias = qkvBias == null ? block.isQkvBias() : qkvBias;
                boolean fits = block.getHiddenSize() == width && block.getGridHeight() == grid[0]
                        && block.getGridWidth() == grid[1] && block.getWindowSize() == window
                        && appliesShift(block, depth % 2 == 0 ? 0 : window / 2)
                        && (long) block.getMlpSize() * d == (long) mlp * width && block.isQkvBias() == qkvBias
                        && (depth == 0 || block.getNumHeads() == heads.get(stage));
                if (!fits) {
                    throw fail("vertex '" + vertex + "' (SwinBlock) has width " + block.getHiddenSize() + ", map "
                            + block.getGridHeight() + "x" + block.getGridWidth() + ", window " + block.getWindowSize()
                            + ", shift " + block.getShiftSize() + ", MLP " + block.getMlpSize() + ", "
                            + block.getNumHeads() + " heads, qkv bias " + block.isQkvBias() + "; block " + depth
                            + " of stage " + stage + " here needs width " + width + ", map " + grid[0] + "x"
                            + grid[1] + ", window " + window + ", shift " + (depth % 2 == 0 ? 0 : window / 2)
                            + ", MLP " + (long) mlp * width / d + ", qkv bias " + qkvBias
                            + (depth == 0 ? "" : ", " + heads.get(stage) + " heads"));
                }
                if (depth == 0) {
                    heads.add(block.getNumHeads());
                }
                SwinCheckpoint.exportBlock(Parameters.of(graph, vertex), stage, depth++, block.isQkvBias(), width,
                        timm);
                epsilons.add(block.getLayerNormEps());
                dropPath = block.getDropPath();
            } else if (layer instanceof PatchMerging merging && depth > 0) {
                if (merging.getHiddenSize() != width || merging.getGridHeight() != grid[0]
                        || merging.getGridWidth() != grid[1]) {
                    throw walk.unexpected(vertex, "a patch merging (PatchMerging) of width " + width + " on a "
                            + grid[0] + "x" + grid[1] + " map");
                }
                depths.add(depth);
                stage++;
                depth = 0;
                SwinCheckpoint.exportMerging(Parameters.of(graph, vertex), stage, width, timm);
                epsilons.add(merging.getLayerNormEps());
            } else if (layer instanceof LayerNormMeanPooling norm && depth > 0 && norm.getHiddenSize() == width) {
                depths.add(depth);
                SwinCheckpoint.exportFinalNorm(Parameters.of(graph, vertex), width, timm);
                epsilons.add(norm.getLayerNormEps());
                classes = withHead ? readHead(vertex, width) : 0;
                break;
            } else {
                throw walk.unexpected(vertex, depth == 0 ? "a Swin block (SwinBlock) of width " + width
                        : "a Swin block (SwinBlock), a patch merging (PatchMerging) or the final norm "
                        + "(LayerNormMeanPooling) of width " + width);
            }
        }
        if (epsilons.size() != 1) {
            throw fail("the LayerNorms of the Swin use different epsilons " + epsilons + "; a Swin configuration has "
                    + "one");
        }
        if (options.numHeads() != null && options.numHeads().intValue() != heads.get(0)) {
            throw fail("--heads " + options.numHeads() + " contradicts the graph, whose first stage has "
                    + heads.get(0) + " heads");
        }
        int total = depths.stream().mapToInt(Integer::intValue).sum();
        SwinTransformerConfig config = shape.toBuilder().name(source).inChannels(embedding.getInChannels())
                .depths(depths).numHeads(heads).windowSize(window).mlpRatio((double) mlp / d).qkvBias(qkvBias)
                .layerNormEps(epsilons.first()).dropPathRate(total > 1 ? dropPath : 0).numClasses(classes).build();
        if (options.imageSize() != null) {
            config = config.withImageHeight(options.imageSize()).withImageWidth(options.imageSize());
        }
        return new SwinCheckpoint(config.validated(), new StateDict(source, timm));
    }

    /**
     * The classifier head after the final norm {@code norm} (features {@code [B, width]}) into {@code head.fc.*}
     * (weight {@code [classes, width]}, DL4J's {@code W} being {@code [width, classes]}): its number of classes, 0
     * when the norm is the graph's output.
     */
    private int readHead(String norm, int width) {
        List<String> readers = walk.consumersOf(norm);
        if (readers.isEmpty()) {
            return 0;
        }
        String head = readers.get(0);
        boolean fits = readers.size() == 1 && walk.layer(head) instanceof DenseLayer dense && dense.getNIn() == width
                && dense.getActivationFn() instanceof ActivationIdentity && walk.consumersOf(head).isEmpty();
        if (!fits) {
            throw walk.unexpected(head, "the classifier head (a DenseLayer of input width " + width
                    + " without activation, the graph's output)");
        }
        DenseLayer dense = (DenseLayer) walk.layer(head);
        int classes = (int) dense.getNOut();
        Map<String, INDArray> table = Parameters.of(graph, head);
        timm.put("head.fc.weight", table.get(DefaultParamInitializer.WEIGHT_KEY).transpose().dup('c'));
        timm.put("head.fc.bias", dense.hasBias() ? table.get(DefaultParamInitializer.BIAS_KEY).reshape(classes).dup()
                : Nd4j.zeros(DataType.FLOAT, classes));
        return classes;
    }

    /**
     * Whether the block shifts its windows as one with shift {@code expected} would: a map no larger than one window
     * is not shifted along that axis, so Keras models that write shift 0 there (as SwinTransformer-Tensorflow2 does)
     * are the same block.
     */
    private static boolean appliesShift(SwinBlock block, int expected) {
        ShiftedWindows actual = block.windows();
        ShiftedWindows wanted = ShiftedWindows.of(block.getGridHeight(), block.getGridWidth(), block.getWindowSize(),
                expected);
        return actual.shiftHeight() == wanted.shiftHeight() && actual.shiftWidth() == wanted.shiftWidth();
    }
}
