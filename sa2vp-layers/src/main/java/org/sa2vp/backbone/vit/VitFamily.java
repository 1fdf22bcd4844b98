package org.sa2vp.backbone.vit;

import org.sa2vp.backbone.Backbone;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.BackboneFamily;
import org.sa2vp.backbone.CheckpointOptions;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sa2vp.backbone.weights.OnnxModel;

import java.nio.file.Path;
import java.util.List;

/**
 * The plain ViT family ({@code "vit"}): {@link VisionTransformerConfig}, its timm variants and {@link VitCheckpoint}
 * (Google {@code .npz}, timm / Hugging Face / torchvision {@code .safetensors}, {@code .npz} and
 * {@code torch.save} {@code .pth}, ONNX, Keras {@code .h5}). Registered through
 * {@code META-INF/services/org.sa2vp.backbone.BackboneFamily}. Backbone JSON without a {@code "family"} id is a ViT:
 * the first format had no other family.
 */
public final class VitFamily implements BackboneFamily {

    public static final String NAME = "vit";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Class<? extends Backbone> configurationType() {
        return VisionTransformerConfig.class;
    }

    @Override
    public boolean readsUntaggedJson() {
        return true;
    }

    @Override
    public List<String> variants() {
        return VisionTransformerConfig.variants();
    }

    @Override
    public Backbone variant(String name) {
        return VisionTransformerConfig.named(name);
    }

    /** Every checkpoint format this family reads; the weight names decide when {@link #read} runs. */
    @Override
    public boolean recognises(Path file) {
        return true;
    }

    @Override
    public BackboneCheckpoint read(Path file, CheckpointOptions options) {
        return VitCheckpoint.read(file, checkpointOptions(options));
    }

    /** This library's {@link VisionTransformer} graphs and Keras ViTs imported by {@code KerasVisionTransformer}. */
    @Override
    public BackboneCheckpoint fromGraph(ComputationGraph graph, CheckpointOptions options) {
        return VitGraphReader.read(graph, options);
    }

    /** torchvision, timm and Hugging Face ViT exports (see {@link VitOnnxReader}). */
    @Override
    public BackboneCheckpoint fromOnnx(OnnxModel model, CheckpointOptions options) {
        return VitOnnxReader.read(model, checkpointOptions(options));
    }

    private static VitCheckpoint.Options checkpointOptions(CheckpointOptions options) {
        return VitCheckpoint.Options.defaults().withNumHeads(options.numHeads()).withImageSize(options.imageSize())
                .withStrict(options.strict());
    }
}
