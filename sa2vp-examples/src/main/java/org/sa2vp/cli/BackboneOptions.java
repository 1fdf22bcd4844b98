package org.sa2vp.cli;

import org.sa2vp.backbone.Backbone;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.Backbones;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.swin.SwinFamily;
import org.sa2vp.backbone.vit.PositionEmbeddingResize;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.zoo.ZooBackbones;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the frozen backbone comes from: a checkpoint file, or a named variant with random weights. ViTs are read
 * with the ViT's options ({@link #checkpoint}); other families' (Swin) through the family registry.
 */
public final class BackboneOptions {

    @Option(names = "--backbone", paramLabel = "FILE|zoo:NAME", description = "ViT or Swin checkpoint (.npz, "
            + ".safetensors, .pth, .onnx, Keras .h5), or zoo:NAME for a bundled one")
    String backbone;

    @Option(names = "--model", paramLabel = "NAME", description = "named ViT or Swin with random frozen "
            + "weights, e.g. vit_base_patch16_224, swin_tiny_patch4_window7_224 (used when no --backbone is given)")
    String model;

    @Option(names = "--heads", paramLabel = "N", description = "attention heads, for files that do not store them")
    Integer heads;

    @Option(names = "--image-size", paramLabel = "S", description = "model image size (position embedding resized)")
    Integer imageSize;

    @Option(names = "--non-strict", description = "ignore checkpoint keys that are not part of a plain ViT")
    boolean nonStrict;

    /**
     * Whether the backbone is a ViT (a ViT file, a bundled backbone, a ViT variant or nothing given yet), which
     * {@link #checkpoint} and {@link #config} read with the ViT's options; else another family's, read by
     * {@link #anyCheckpoint} and {@link #anyConfig}.
     */
    public boolean isVit() {
        return backbone != null ? !isSwinFile(backbone)
                : model == null || VisionTransformerConfig.variants().contains(model);
    }

    /** Whether {@code fileOrZooName} is a Swin Transformer checkpoint file (bundled backbones are ViTs). */
    static boolean isSwinFile(String fileOrZooName) {
        if (fileOrZooName.startsWith(ZooBackbones.PREFIX) || !Files.isRegularFile(Path.of(fileOrZooName))) {
            return false;
        }
        return Backbones.family(SwinFamily.NAME).recognises(Path.of(fileOrZooName));
    }

    /** The checkpoint of any registered family ({@link Backbones#read}), or null when a named variant is used. */
    public BackboneCheckpoint anyCheckpoint() {
        return backbone == null ? null : ZooBackbones.read(backbone, CheckpointOptions.defaults().withNumHeads(heads)
                .withImageSize(imageSize).withStrict(!nonStrict));
    }

    /** The backbone architecture of any registered family, without head: the checkpoint's or the named variant's. */
    public Backbone anyConfig(BackboneCheckpoint checkpoint) {
        if (checkpoint != null) {
            return checkpoint.config().headless();
        }
        if (model == null) {
            throw new IllegalArgumentException("give --backbone FILE or --model NAME (e.g. vit_base_patch16_224)");
        }
        if (imageSize != null) {
            throw new IllegalArgumentException("--image-size resizes a ViT; " + model + " is a " + Backbones.variant(
                    model).family() + " variant of its own image size");
        }
        return Backbones.variant(model);
    }

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
