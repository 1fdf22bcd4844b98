package org.sa2vp.zoo;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.Backbones;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.vit.VisionTransformer;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.backbone.weights.StateDict;
import org.sa2vp.train.TrainingRecipe;

import java.nio.file.Path;

/**
 * The first backbone this project ships ({@link FashionMnistBackbone}): a tiny ViT for 32×32 grey images (4×4
 * patches, so an 8×8 token grid, width 96, 6 blocks of 3 heads, MLP 384, class token), trained from scratch with
 * supervision on Fashion-MNIST by {@code sa2vp pretrain} ({@link #PRETRAINING}). {@link #backbone()} is the
 * checkpoint for SA2VP and the baselines ({@link org.sa2vp.method.TuningMethod#loadBackbone}).
 */
public final class PretrainedTinyVit extends FashionMnistBackbone<PretrainedTinyVit> {

    public static final String NAME = "vit_tiny_patch4_32_fashion";
    /** SHA-256 of the bundled weights, as recorded in {@code docs/DATA.md}. */
    public static final String WEIGHTS_SHA256 = "4dd3c27369be93d56d12a20e5d4ee0bddd5aa6adc2da67045dd86be417bc01a8";

    /** The architecture, with the 10-class Fashion-MNIST head. */
    public static final VisionTransformerConfig CONFIG = VisionTransformerConfig.builder().name(NAME).inChannels(1)
            .imageHeight(IMAGE_SIZE).imageWidth(IMAGE_SIZE).patchSize(4).hiddenSize(96).depth(6).numHeads(3)
            .mlpSize(384).numClasses(10).build().validated();

    /**
     * How the bundled weights were trained ({@code sa2vp pretrain} with its defaults): AdamW, lr 2e-3 with one
     * epoch of warm-up then cosine, weight decay 0.05, batch 128, 13 epochs of all 60,000 training images with
     * random ±{@value #PRETRAINING_SHIFT} pixel shifts and horizontal flips.
     */
    public static final TrainingRecipe PRETRAINING = TrainingRecipe.builder().learningRate(2e-3).minLearningRate(1e-5)
            .weightDecay(0.05).epochs(13).warmupEpochs(1).batchSize(128).evalBatchSize(500).seed(42).build()
            .validated();

    public PretrainedTinyVit() {
        super(NAME, CONFIG, PRETRAINING, WEIGHTS_SHA256);
    }

    @Override
    public VisionTransformerConfig classifier() {
        return CONFIG;
    }

    /** The 10-class Fashion-MNIST classifier with random weights. */
    @Override
    @SuppressWarnings("unchecked")
    public ComputationGraph init() {
        return VisionTransformer.create(CONFIG);
    }

    /** The heads default to the bundled 3, which the file cannot tell. */
    @Override
    protected VitCheckpoint readWeights(Path file, CheckpointOptions options) {
        VitCheckpoint read = VitCheckpoint.of(Backbones.read(file, options.numHeads() != null ? options
                : options.withNumHeads(CONFIG.getNumHeads())));
        return new VitCheckpoint(read.config().withName(NAME), read.weights(), read.sourceGrid(), read.alignment());
    }

    @Override
    protected void assign(BackboneCheckpoint weights, ComputationGraph graph) {
        VitCheckpoint.of(weights).assignTo(graph, CONFIG);
    }

    @Override
    public StateDict export(ComputationGraph classifier) {
        return VitCheckpoint.export(classifier, CONFIG);
    }

    /** The weights as a checkpoint, checksum-verified; read from the jar on every call. */
    public static VitCheckpoint backbone() {
        return read(CheckpointOptions.defaults());
    }

    /** The weights read with {@code options} (another image size, say). */
    public static VitCheckpoint read(CheckpointOptions options) {
        return VitCheckpoint.of(new PretrainedTinyVit().checkpoint(options));
    }
}
