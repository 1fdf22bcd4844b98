package org.sa2vp.backbone.vit;

import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.backbone.weights.OnnxModel;
import org.sa2vp.backbone.weights.OnnxTensor;
import org.sa2vp.backbone.weights.OnnxWeights;

import java.util.Arrays;
import java.util.List;

/**
 * Recognises a ViT in an ONNX model as this library parses it ({@link OnnxModel}) and reads it as a
 * {@link VitCheckpoint}. DL4J 1.0.0-M2.1 cannot import a raw ONNX ViT into a ComputationGraph, and its SameDiff
 * importer fails on raw torch exports (and imports MatMul wrongly), so an ONNX ViT is attached through its weights: {@link OnnxWeights} recovers the
 * exporter's state dict and heads, {@link VitCheckpoint#of} names and infers the architecture, and the graph is
 * checked to have a ViT's structure where the weights alone cannot tell: one image input read by the patch
 * embedding (a {@code Conv} whose square kernel equals its stride, without padding, whose kernel is the
 * checkpoint's patch embedding) and one attention {@code Softmax} per block (a {@code Softmax} that gives a graph
 * output, a classifier's probabilities, is not counted).
 */
final class VitOnnxReader {

    private VitOnnxReader() {
    }

    /**
     * The ViT in {@code model}; every failure is one {@link CheckpointException} line naming the model and, where
     * the structure does not fit, the node and what was expected there.
     */
    static VitCheckpoint read(OnnxModel model, VitCheckpoint.Options options) {
        OnnxModel.Graph graph = model.graph();
        String source = model.source();
        List<String> images = graph.inputs().stream().filter(i -> !graph.initializers().containsKey(i)).toList();
        if (images.size() != 1) {
            throw new CheckpointException(source + ": the graph has " + images.size() + " inputs " + images
                    + ", where a ViT has one image input");
        }
        String image = images.get(0);
        List<OnnxModel.Node> readers = graph.nodes().stream().filter(n -> n.inputs().contains(image)).toList();
        OnnxModel.Node patchEmbedding = readers.stream().filter(n -> n.opType().equals("Conv")).findFirst()
                .orElseThrow(() -> new CheckpointException(source + ": no Conv node reads the image input '" + image
                        + "' (read by " + describe(readers) + "); expected the patch embedding"));
        OnnxTensor kernel = graph.initializers().get(patchEmbedding.input(1));
        long[] kernelShape = patchEmbedding.attribute("kernel_shape").map(OnnxModel.Attribute::ints)
                .orElse(kernel == null ? new long[0] : Arrays.copyOfRange(kernel.dims(), 2, kernel.rank()));
        long[] strides = patchEmbedding.attribute("strides").map(OnnxModel.Attribute::ints).orElse(new long[]{1, 1});
        long[] pads = patchEmbedding.attribute("pads").map(OnnxModel.Attribute::ints).orElse(new long[4]);
        if (kernel == null || kernel.rank() != 4 || kernelShape.length != 2 || kernelShape[0] != kernelShape[1]
                || !Arrays.equals(kernelShape, strides) || Arrays.stream(pads).anyMatch(p -> p != 0)) {
            throw new CheckpointException(source + ": node " + describe(patchEmbedding) + " reading the image has "
                    + (kernel == null ? "a kernel computed in the graph" : "kernel " + Arrays.toString(kernelShape))
                    + ", strides " + Arrays.toString(strides) + ", pads " + Arrays.toString(pads) + "; expected the "
                    + "patch embedding: a stored square kernel equal to the strides, no padding");
        }
        OnnxWeights weights = OnnxWeights.of(model);
        VitCheckpoint checkpoint = VitCheckpoint.of(weights.stateDict(), weights.numHeads(), options);
        VisionTransformerConfig config = checkpoint.config();
        if (kernel.dims()[0] != config.getHiddenSize() || kernelShape[0] != config.getPatchSize()) {
            throw new CheckpointException(source + ": node " + describe(patchEmbedding) + " reading the image has "
                    + "kernel " + Arrays.toString(kernel.dims()) + ", but the patch embedding in the weights is "
                    + config.getHiddenSize() + " wide with patch " + config.getPatchSize());
        }
        // A Softmax whose output leaves the graph is a classifier's probabilities, not attention.
        List<OnnxModel.Node> softmaxes = graph.nodes().stream().filter(n -> n.opType().equals("Softmax"))
                .filter(n -> n.outputs().stream().noneMatch(graph.outputs()::contains)).toList();
        if (softmaxes.size() != config.getDepth()) {
            throw new CheckpointException(source + ": " + softmaxes.size() + " Softmax nodes (" + describe(softmaxes)
                    + "), where a ViT with the " + config.getDepth() + " blocks of its weights has one attention "
                    + "Softmax per block");
        }
        return checkpoint;
    }

    private static String describe(OnnxModel.Node node) {
        return "'" + node.name() + "' (" + node.opType() + ")";
    }

    private static String describe(List<OnnxModel.Node> nodes) {
        return nodes.isEmpty() ? "no node" : String.join(", ", nodes.stream().map(VitOnnxReader::describe).toList());
    }
}
