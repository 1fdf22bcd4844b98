package org.sa2vp.backbone.weights;

import java.util.Arrays;
import java.util.List;

/**
 * The structure every family's ONNX reader checks before trusting the weights it recovers ({@link OnnxWeights}),
 * where the weights alone cannot tell: one image input read by the patch embedding (a {@code Conv} whose square
 * kernel equals its stride, without padding, whose kernel is the checkpoint's patch embedding) and one attention
 * {@code Softmax} per block (a {@code Softmax} that gives a graph output, a classifier's probabilities, is not
 * counted). Each failure is one {@link CheckpointException} line naming the model, the node and what the family
 * (e.g. "a ViT") has there.
 */
public final class OnnxBackboneGraph {

    private OnnxBackboneGraph() {
    }

    /**
     * The patch embedding node and its stored kernel.
     *
     * @param node   the {@code Conv} reading the image input
     * @param kernel its weight initializer {@code [width, channels, patch, patch]}
     * @param patch  its kernel side, equal to its stride
     */
    public record PatchEmbedding(OnnxModel.Node node, OnnxTensor kernel, long patch) {

        /**
         * Fails in one line unless the kernel is {@code width} wide with side {@code patchSize}, as the patch
         * embedding in the recovered weights is.
         */
        public void requireSize(String source, long width, long patchSize) {
            if (kernel.dims()[0] != width || patch != patchSize) {
                throw new CheckpointException(source + ": node " + describe(node) + " reading the image has "
                        + "kernel " + Arrays.toString(kernel.dims()) + ", but the patch embedding in the weights is "
                        + width + " wide with patch " + patchSize);
            }
        }
    }

    /**
     * The one image input of {@code model} and the patch embedding {@code Conv} reading it.
     *
     * @param family how messages name the family, e.g. "a ViT"
     */
    public static PatchEmbedding patchEmbedding(OnnxModel model, String family) {
        OnnxModel.Graph graph = model.graph();
        String source = model.source();
        List<String> images = graph.inputs().stream().filter(i -> !graph.initializers().containsKey(i)).toList();
        if (images.size() != 1) {
            throw new CheckpointException(source + ": the graph has " + images.size() + " inputs " + images
                    + ", where " + family + " has one image input");
        }
        String image = images.get(0);
        List<OnnxModel.Node> readers = graph.nodes().stream().filter(n -> n.inputs().contains(image)).toList();
        OnnxModel.Node conv = readers.stream().filter(n -> n.opType().equals("Conv")).findFirst()
                .orElseThrow(() -> new CheckpointException(source + ": no Conv node reads the image input '" + image
                        + "' (read by " + describe(readers) + "); expected the patch embedding"));
        OnnxTensor kernel = graph.initializers().get(conv.input(1));
        long[] kernelShape = conv.attribute("kernel_shape").map(OnnxModel.Attribute::ints)
                .orElse(kernel == null ? new long[0] : Arrays.copyOfRange(kernel.dims(), 2, kernel.rank()));
        long[] strides = conv.attribute("strides").map(OnnxModel.Attribute::ints).orElse(new long[]{1, 1});
        long[] pads = conv.attribute("pads").map(OnnxModel.Attribute::ints).orElse(new long[4]);
        if (kernel == null || kernel.rank() != 4 || kernelShape.length != 2 || kernelShape[0] != kernelShape[1]
                || !Arrays.equals(kernelShape, strides) || Arrays.stream(pads).anyMatch(p -> p != 0)) {
            throw new CheckpointException(source + ": node " + describe(conv) + " reading the image has "
                    + (kernel == null ? "a kernel computed in the graph" : "kernel " + Arrays.toString(kernelShape))
                    + ", strides " + Arrays.toString(strides) + ", pads " + Arrays.toString(pads) + "; expected the "
                    + "patch embedding: a stored square kernel equal to the strides, no padding");
        }
        return new PatchEmbedding(conv, kernel, kernelShape[0]);
    }

    /**
     * Fails in one line unless {@code model} has one attention {@code Softmax} per block.
     *
     * @param blocks the number of blocks in the recovered weights
     * @param family how messages name the family, e.g. "a ViT"
     */
    public static void requireAttentionPerBlock(OnnxModel model, int blocks, String family) {
        OnnxModel.Graph graph = model.graph();
        // A Softmax whose output leaves the graph is a classifier's probabilities, not attention.
        List<OnnxModel.Node> softmaxes = graph.nodes().stream().filter(n -> n.opType().equals("Softmax"))
                .filter(n -> n.outputs().stream().noneMatch(graph.outputs()::contains)).toList();
        if (softmaxes.size() != blocks) {
            throw new CheckpointException(model.source() + ": " + softmaxes.size() + " Softmax nodes ("
                    + describe(softmaxes) + "), where " + family + " with the " + blocks + " blocks of its weights "
                    + "has one attention Softmax per block");
        }
    }

    private static String describe(OnnxModel.Node node) {
        return "'" + node.name() + "' (" + node.opType() + ")";
    }

    private static String describe(List<OnnxModel.Node> nodes) {
        return nodes.isEmpty() ? "no node"
                : String.join(", ", nodes.stream().map(OnnxBackboneGraph::describe).toList());
    }
}
