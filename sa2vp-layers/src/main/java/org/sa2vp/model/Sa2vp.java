package org.sa2vp.model;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.Backbones;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.backbone.weights.OnnxModel;
import org.sa2vp.method.TuningMethods;

/**
 * SA2VP on a ViT the user already has, in one call: the ViT is recognised ({@link Backbones#fromGraph},
 * {@link Backbones#fromOnnx}), its weights are copied into a new {@link Sa2vpModel} graph and frozen there, and the
 * prompts, adapters and head start from the authors' initialisation. The user's graph or model is only read.
 * <pre>
 *   ComputationGraph vit = KerasVisionTransformer.importModel(h5);   // or VisionTransformer.create(...), ...
 *   ComputationGraph sa2vp = Sa2vp.attach(vit, 10);
 *   sa2vp.fit(new MultiDataSet(new INDArray[]{images}, Sa2vpModel.labels(oneHot)));
 * </pre>
 * The same for every other registered method: {@link TuningMethods#attach}. Images are {@code [B, C, H, W]}
 * (NCHW), also for a Keras-imported ViT whose own input is NHWC.
 */
public final class Sa2vp {

    private Sa2vp() {
    }

    /**
     * SA2VP with the authors' settings ({@link Sa2vpConfig#of}) for {@code numClasses} classes on the ViT in
     * {@code vit}, on {@link Sa2vpModel#defaultGlobals()}.
     *
     * @throws IllegalArgumentException one line naming the vertex of {@code vit} that is not where a ViT has it
     */
    public static ComputationGraph attach(ComputationGraph vit, int numClasses) {
        return attach(Backbones.fromGraph(vit, CheckpointOptions.defaults()), null, numClasses,
                Sa2vpModel.defaultGlobals());
    }

    /** SA2VP with {@code config}'s settings on the ViT in {@code vit}, on {@link Sa2vpModel#defaultGlobals()}. */
    public static ComputationGraph attach(ComputationGraph vit, Sa2vpConfig config) {
        return attach(vit, config, Sa2vpModel.defaultGlobals());
    }

    /**
     * SA2VP with {@code config}'s settings on the ViT in {@code vit}. The backbone becomes the one read from the
     * graph (with its LayerNorm epsilon and pooling); a backbone already set in {@code config} must have its
     * architecture, a null one takes it.
     *
     * @param globals updater, seed, data type for the new graph, e.g. {@link Sa2vpModel#defaultGlobals()} or a
     *                training recipe's {@code globals}
     */
    public static ComputationGraph attach(ComputationGraph vit, Sa2vpConfig config,
                                          NeuralNetConfiguration.Builder globals) {
        return attach(Backbones.fromGraph(vit, CheckpointOptions.defaults()), config, config.getNumClasses(),
                globals);
    }

    /**
     * SA2VP with the authors' settings on the ViT exported to ONNX in {@code vit} (DL4J cannot import an ONNX ViT
     * into a graph, so the ONNX model's weights are attached; see {@link Backbones#fromOnnx}).
     *
     * @throws IllegalArgumentException one line naming the ONNX node that is not where a ViT has it
     */
    public static ComputationGraph attach(OnnxModel vit, int numClasses) {
        return attach(Backbones.fromOnnx(vit, CheckpointOptions.defaults()), null, numClasses,
                Sa2vpModel.defaultGlobals());
    }

    /** As {@link #attach(ComputationGraph, Sa2vpConfig, NeuralNetConfiguration.Builder)} for an ONNX ViT. */
    public static ComputationGraph attach(OnnxModel vit, Sa2vpConfig config, NeuralNetConfiguration.Builder globals) {
        return attach(Backbones.fromOnnx(vit, CheckpointOptions.defaults()), config, config.getNumClasses(),
                globals);
    }

    /** {@code config} (null: the authors' settings) on the checkpoint's backbone, then attached. */
    private static ComputationGraph attach(BackboneCheckpoint checkpoint, Sa2vpConfig config, int numClasses,
                                           NeuralNetConfiguration.Builder globals) {
        VisionTransformerConfig backbone = VitCheckpoint.of(checkpoint).config();
        if (config != null && config.getBackbone() != null && !config.getBackbone().sameArchitecture(backbone)) {
            throw new IllegalArgumentException(checkpoint.source() + ": backbone " + backbone.describe()
                    + " is not the one the SA2VP configuration is set for, " + config.getBackbone().describe());
        }
        Sa2vpConfig method = config == null ? Sa2vpConfig.of(backbone, numClasses) : config.withBackbone(backbone);
        return TuningMethods.attach(method, checkpoint, globals);
    }
}
