package org.sa2vp.backbone.vit;

import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.backbone.weights.OnnxBackboneGraph;
import org.sa2vp.backbone.weights.OnnxModel;
import org.sa2vp.backbone.weights.OnnxWeights;
import org.sa2vp.backbone.weights.VitNaming;

/**
 * Recognises a ViT in an ONNX model as this library parses it ({@link OnnxModel}) and reads it as a
 * {@link VitCheckpoint}. DL4J 1.0.0-M2.1 cannot import a raw ONNX ViT into a ComputationGraph, and its SameDiff
 * importer fails on raw torch exports (and imports MatMul wrongly), so an ONNX ViT is attached through its weights:
 * the named initializers must be a ViT naming's ({@link VitNaming}), {@link OnnxWeights} recovers the exporter's
 * state dict and heads, {@link VitCheckpoint#of} names and infers the architecture, and the graph is checked to have
 * a ViT's structure where the weights alone cannot tell: one image input read by the patch embedding (a
 * {@code Conv} whose square kernel equals its stride, without padding, whose kernel is the checkpoint's patch
 * embedding) and one attention {@code Softmax} per block ({@link OnnxBackboneGraph}).
 */
final class VitOnnxReader {

    private static final String FAMILY = "a ViT";

    private VitOnnxReader() {
    }

    /**
     * The ViT in {@code model}; every failure is one {@link CheckpointException} line naming the model and, where
     * the structure does not fit, the node and what was expected there.
     */
    static VitCheckpoint read(OnnxModel model, VitCheckpoint.Options options) {
        OnnxBackboneGraph.PatchEmbedding patchEmbedding = OnnxBackboneGraph.patchEmbedding(model, FAMILY);
        // From the names alone, before any tensor is converted: a Swin export is refused here.
        VitNaming.detect(OnnxWeights.parameterNames(model), model.source());
        OnnxWeights weights = OnnxWeights.of(model);
        VitCheckpoint checkpoint = VitCheckpoint.of(weights.stateDict(), weights.numHeads(), options);
        VisionTransformerConfig config = checkpoint.config();
        patchEmbedding.requireSize(model.source(), config.getHiddenSize(), config.getPatchSize());
        OnnxBackboneGraph.requireAttentionPerBlock(model, config.getDepth(), FAMILY);
        return checkpoint;
    }
}
