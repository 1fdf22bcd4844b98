package org.sa2vp.zoo;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.Backbones;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.swin.SwinCheckpoint;
import org.sa2vp.backbone.swin.SwinTransformer;
import org.sa2vp.backbone.swin.SwinTransformerConfig;
import org.sa2vp.backbone.weights.StateDict;
import org.sa2vp.train.TrainingRecipe;

import java.nio.file.Path;
import java.util.List;

/**
 * The Swin Transformer this project ships ({@link FashionMnistBackbone}), for SA2VP-Swin on the same tasks as the
 * tiny ViT: 32×32 grey images, 2×2 patches (a 16×16 token map), 4×4 windows, three stages of 2, 2 and 6 blocks,
 * 32, 64 and 128 wide with 1, 2 and 4 heads (32 values a head, as Swin-B's), so the maps are 16×16, 8×8 and 4×4: the
 * first two stages shift their windows and the third is one window, as Swin-B's last stage is at 224 px. SA2VP-Swin
 * interacts in the third stage, as the authors' code does on Swin-B. Trained from scratch with supervision on
 * Fashion-MNIST by {@code sa2vp pretrain --model} {@value #NAME} ({@link #PRETRAINING}): 88.06 % on the 10,000
 * test images (the tiny ViT: 87.95 %).
 */
public final class PretrainedTinySwin extends FashionMnistBackbone<PretrainedTinySwin> {

    public static final String NAME = "swin_tiny_patch2_window4_32_fashion";
    /** SHA-256 of the bundled weights, as recorded in {@code docs/DATA.md}. */
    public static final String WEIGHTS_SHA256 = "948708c1eaa84dd282440e077d343d225f42f248dbfd995cdc33f0f903915e3e";

    /** The architecture, with the 10-class Fashion-MNIST head. */
    public static final SwinTransformerConfig CONFIG = SwinTransformerConfig.builder().name(NAME).inChannels(1)
            .imageHeight(IMAGE_SIZE).imageWidth(IMAGE_SIZE).patchSize(2).embedDim(32).depths(List.of(2, 2, 6))
            .numHeads(List.of(1, 2, 4)).windowSize(4).numClasses(10).build().validated();

    /**
     * How the bundled weights were trained ({@code sa2vp pretrain --model} {@value #NAME} with its defaults): the
     * tiny ViT's recipe (AdamW, lr 2e-3 with one epoch of warm-up then cosine, weight decay 0.05, batch 128, random
     * ±{@value #PRETRAINING_SHIFT} pixel shifts and horizontal flips of all 60,000 training images) for 8 epochs
     * instead of 13 (an epoch of this Swin costs about what one of the ViT does).
     */
    public static final TrainingRecipe PRETRAINING = PretrainedTinyVit.PRETRAINING.withEpochs(8);

    public PretrainedTinySwin() {
        super(NAME, CONFIG, PRETRAINING, WEIGHTS_SHA256);
    }

    @Override
    public SwinTransformerConfig classifier() {
        return CONFIG;
    }

    /** The 10-class Fashion-MNIST classifier with random weights. */
    @Override
    @SuppressWarnings("unchecked")
    public ComputationGraph init() {
        return SwinTransformer.create(CONFIG);
    }

    /** A Swin file does not store its image size: 32 unless {@code options} give another. */
    @Override
    protected SwinCheckpoint readWeights(Path file, CheckpointOptions options) {
        SwinCheckpoint read = SwinCheckpoint.of(Backbones.read(file, options.imageSize() != null ? options
                : options.withImageSize(IMAGE_SIZE)));
        return new SwinCheckpoint(read.config().withName(NAME), read.weights());
    }

    @Override
    protected void assign(BackboneCheckpoint weights, ComputationGraph graph) {
        SwinCheckpoint.of(weights).assignTo(graph, CONFIG);
    }

    @Override
    public StateDict export(ComputationGraph classifier) {
        return SwinCheckpoint.export(classifier, CONFIG);
    }

    /** The weights as a checkpoint, checksum-verified; read from the jar on every call. */
    public static SwinCheckpoint backbone() {
        return read(CheckpointOptions.defaults());
    }

    /** The weights read with {@code options} (another image size, say). */
    public static SwinCheckpoint read(CheckpointOptions options) {
        return SwinCheckpoint.of(new PretrainedTinySwin().checkpoint(options));
    }
}
