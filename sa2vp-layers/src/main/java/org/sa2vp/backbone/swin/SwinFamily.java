package org.sa2vp.backbone.swin;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sa2vp.backbone.Backbone;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.BackboneFamily;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.weights.CheckpointKeys;
import org.sa2vp.backbone.weights.OnnxModel;
import org.sa2vp.backbone.weights.SwinNaming;
import org.sa2vp.backbone.weights.keras.KerasBackboneImports;

import java.nio.file.Path;
import java.util.List;

/**
 * The Swin Transformer family ({@code "swin"}): {@link SwinTransformerConfig}, its timm variants and
 * {@link SwinCheckpoint} (timm, Microsoft, torchvision and Hugging Face state dicts as {@code .safetensors},
 * {@code .npz} or {@code torch.save} {@code .pth}; torchvision, timm and Microsoft ONNX exports; Keras {@code .h5}
 * models of SwinTransformer-Tensorflow2's layers). Registered through
 * {@code META-INF/services/org.sa2vp.backbone.BackboneFamily}.
 */
public final class SwinFamily implements BackboneFamily {

    public static final String NAME = "swin";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Class<? extends Backbone> configurationType() {
        return SwinTransformerConfig.class;
    }

    @Override
    public List<String> variants() {
        return SwinTransformerConfig.variants();
    }

    @Override
    public Backbone variant(String name) {
        return SwinTransformerConfig.named(name);
    }

    /**
     * State dicts and ONNX exports whose names are a Swin checkpoint's in a known naming ({@link SwinNaming}), from
     * the names alone, and Keras {@code .h5} models of the Swin's registered layout ({@link KerasBackboneImports}),
     * from their layer classes alone.
     */
    @Override
    public boolean recognises(Path file) {
        return CheckpointKeys.of(file).flatMap(SwinNaming::find).isPresent()
                || KerasBackboneImports.familyOf(file).filter(NAME::equals).isPresent();
    }

    @Override
    public BackboneCheckpoint read(Path file, CheckpointOptions options) {
        return SwinCheckpoint.read(file, options);
    }

    /** This library's {@link SwinTransformer} graphs and Keras Swins imported by {@code KerasSwinTransformer}. */
    @Override
    public BackboneCheckpoint fromGraph(ComputationGraph graph, CheckpointOptions options) {
        return SwinGraphReader.read(graph, options);
    }

    /** torchvision, timm and Microsoft Swin exports (see {@link SwinOnnxReader}). */
    @Override
    public BackboneCheckpoint fromOnnx(OnnxModel model, CheckpointOptions options) {
        return SwinOnnxReader.read(model, options);
    }
}
