package org.sa2vp.backbone.vit;

import org.sa2vp.backbone.Backbone;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.BackboneFamily;
import org.sa2vp.backbone.CheckpointOptions;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sa2vp.backbone.weights.CheckpointKeys;
import org.sa2vp.backbone.weights.OnnxModel;
import org.sa2vp.backbone.weights.VitNaming;
import org.sa2vp.backbone.weights.keras.KerasBackboneImports;

import java.nio.file.Path;
import java.util.Arrays;
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

    /**
     * State dicts ({@code .npz}, {@code .safetensors}, {@code .pth}) and ONNX exports whose names are a ViT's in a
     * known naming ({@link VitNaming}), Keras {@code .h5} models of the ViT's layout ({@link KerasVitImport}), and
     * every other file whose names are not a state dict's and that no family's Keras layout claims (files that are
     * no checkpoint at all, Keras models of no known layout), so that {@link #read} says what is wrong with them.
     */
    @Override
    public boolean recognises(Path file) {
        return CheckpointKeys.of(file).map(keys -> Arrays.stream(VitNaming.values())
                .anyMatch(naming -> naming.table().recognises(keys)))
                .orElseGet(() -> KerasBackboneImports.familyOf(file).map(NAME::equals).orElse(true));
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
