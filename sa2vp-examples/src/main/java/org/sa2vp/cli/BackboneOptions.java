package org.sa2vp.cli;

import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.vit.PositionEmbeddingResize;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.zoo.ZooBackbones;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Where the frozen ViT comes from: a checkpoint file, or a named variant with random weights. */
public final class BackboneOptions {

    @Option(names = "--backbone", paramLabel = "FILE|zoo:NAME", description = "ViT checkpoint (.npz, .safetensors, "
            + ".pth, .onnx, .h5), or zoo:NAME for a bundled one")
    String backbone;

    @Option(names = "--model", paramLabel = "NAME", description = "named ViT with random frozen weights, e.g. "
            + "vit_base_patch16_224 (used when no --backbone is given)")
    String model;

    @Option(names = "--heads", paramLabel = "N", description = "attention heads, for files that do not store them")
    Integer heads;

    @Option(names = "--image-size", paramLabel = "S", description = "model image size (position embedding resized)")
    Integer imageSize;

    @Option(names = "--non-strict", description = "ignore checkpoint keys that are not part of a plain ViT")
    boolean nonStrict;

    /** The checkpoint, or null when a named variant is used. */
    public VitCheckpoint checkpoint() {
        if (backbone == null) {
            return null;
        }
        if (backbone.startsWith(ZooBackbones.PREFIX)) {
            return VitCheckpoint.of(ZooBackbones.read(backbone, CheckpointOptions.defaults().withNumHeads(heads)
                    .withImageSize(imageSize).withStrict(!nonStrict)));
        }
        return VitCheckpoint.read(Path.of(backbone), VitCheckpoint.Options.defaults().withNumHeads(heads)
                .withImageSize(imageSize).withAlignment(PositionEmbeddingResize.Alignment.ALIGN_CORNERS)
                .withStrict(!nonStrict));
    }

    /** The backbone architecture (head removed: SA2VP brings its own). */
    public VisionTransformerConfig config(VitCheckpoint checkpoint) {
        if (checkpoint != null) {
            return checkpoint.config().withNumClasses(0).withDropout(0);
        }
        if (model == null) {
            throw new IllegalArgumentException("give --backbone FILE or --model NAME (e.g. vit_base_patch16_224)");
        }
        VisionTransformerConfig named = VisionTransformerConfig.named(model);
        return imageSize == null ? named : named.withImageHeight(imageSize).withImageWidth(imageSize).validated();
    }
}
