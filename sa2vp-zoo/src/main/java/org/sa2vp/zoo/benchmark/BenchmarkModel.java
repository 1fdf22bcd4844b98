package org.sa2vp.zoo.benchmark;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.zoo.ModelMetaData;
import org.deeplearning4j.zoo.PretrainedType;
import org.deeplearning4j.zoo.ZooModel;
import org.deeplearning4j.zoo.ZooType;
import org.sa2vp.backbone.Backbone;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.Backbones;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.model.Sa2vpMethods;
import org.sa2vp.train.Trainer;
import org.sa2vp.train.TrainingRecipe;
import org.sa2vp.zoo.ZooBackbones;

import java.util.Arrays;

/**
 * A registered benchmark's ready model as a DL4J {@link ZooModel}: a tuning method (SA2VP with the benchmark's
 * settings and, optionally, a Table 5 {@link Ablation}; or a baseline: linear probe, full fine-tuning, VPT-shallow,
 * VPT-deep) on a frozen backbone, with the benchmark's classes and training recipe (AdamW, warm-up and cosine per
 * iteration, decoupled weight decay) built into the graph.
 *
 * <pre>{@code
 * BenchmarkModel model = BenchmarkModel.builder("vtab-1k/dsprites-location", "vit_base_patch16_224").build();
 * ComputationGraph graph = model.initPretrained("imagenet21k_ViT-B_16.npz");   // the backbone file you have
 * Trainer.start(graph, model.config(), model.recipe(), train, test, runDirectory).fit();
 * }</pre>
 *
 * <p>Nothing is downloaded: DL4J's {@link #initPretrained(PretrainedType)} fails in one line pointing to
 * {@link #initPretrained(String)}, which reads a checkpoint file you supply through this project's loaders (Google
 * {@code .npz}, {@code .safetensors}, {@code torch.save} {@code .pth}, ONNX, Keras {@code .h5}) or a bundled
 * backbone ({@code zoo:NAME}).
 */
public final class BenchmarkModel extends ZooModel<BenchmarkModel> {

    /** Training images per epoch when the builder is not told: VTAB-1k's 1000 (train800val200). */
    public static final int DEFAULT_TRAINING_IMAGES = 1000;

    private final Benchmark benchmark;
    private final Backbone backbone;
    private final TuningMethod config;
    private final TrainingRecipe recipe;
    private final int trainingImages;

    private BenchmarkModel(Builder b) {
        this.benchmark = b.benchmark;
        this.backbone = b.backbone.headless();
        TuningMethod method = BenchmarkRecipes.method(benchmark, b.method, backbone);
        if (b.ablation != null && b.ablation != Ablation.INTACT) {
            if (!Sa2vpMethods.SA2VP.equals(method.methodName())) {
                throw new IllegalArgumentException("ablation " + b.ablation.id + " is a variant of SA2VP, not of "
                        + method.methodName());
            }
            method = b.ablation.apply(method);
        }
        this.config = method;
        this.recipe = BenchmarkRecipes.recipe(benchmark);
        this.trainingImages = b.trainingImages;
    }

    /** A builder for {@code benchmarkId} on the registered backbone variant {@code backboneVariant}. */
    public static Builder builder(String benchmarkId, String backboneVariant) {
        return new Builder(Benchmarks.get(benchmarkId), Backbones.variant(backboneVariant));
    }

    /** A builder for {@code benchmark} on {@code backbone} (its head is removed). */
    public static Builder builder(Benchmark benchmark, Backbone backbone) {
        return new Builder(benchmark, backbone);
    }

    /** Options of a {@link BenchmarkModel}; every one has a default. */
    public static final class Builder {
        private final Benchmark benchmark;
        private final Backbone backbone;
        private String method = "sa2vp";
        private Ablation ablation;
        private int trainingImages = DEFAULT_TRAINING_IMAGES;

        private Builder(Benchmark benchmark, Backbone backbone) {
            this.benchmark = benchmark;
            this.backbone = backbone;
        }

        /** The registered tuning method (default {@code sa2vp}; baselines: linear-probe, full-finetune, vpt-shallow, vpt-deep). */
        public Builder method(String method) {
            this.method = method;
            return this;
        }

        /** A Table 5 variant of SA2VP (default: the intact model). */
        public Builder ablation(Ablation ablation) {
            this.ablation = ablation;
            return this;
        }

        /** Training images per epoch, which fixes the learning-rate schedule's length (default 1000, VTAB-1k's). */
        public Builder trainingImages(int trainingImages) {
            if (trainingImages < 1) {
                throw new IllegalArgumentException("trainingImages must be >= 1, got " + trainingImages);
            }
            this.trainingImages = trainingImages;
            return this;
        }

        /** The model. */
        public BenchmarkModel build() {
            return new BenchmarkModel(this);
        }
    }

    /** The method's configuration: what {@link Trainer#start} and {@code sa2vp train --benchmark} train. */
    public TuningMethod config() {
        return config;
    }

    /** The benchmark's training recipe. */
    public TrainingRecipe recipe() {
        return recipe;
    }

    /** The benchmark this model is for. */
    public Benchmark benchmark() {
        return benchmark;
    }

    @Override
    public String modelName() {
        return benchmark.id() + " " + config.methodName() + " on " + backbone.getName();
    }

    /** The graph with its optimizer and schedule, the backbone randomly initialised (see {@link #initPretrained(String)}). */
    @Override
    @SuppressWarnings("unchecked")
    public ComputationGraph init() {
        return Trainer.newGraph(config, recipe, trainingImages);
    }

    /**
     * {@link #init()} with the frozen backbone read from {@code fileOrZooName}: a checkpoint file in any format the
     * loaders read, or {@code zoo:NAME} for a bundled backbone.
     *
     * @throws IllegalArgumentException in one line for a missing file or one of another architecture
     */
    public ComputationGraph initPretrained(String fileOrZooName) {
        BackboneCheckpoint checkpoint = ZooBackbones.read(fileOrZooName, CheckpointOptions.of(backbone));
        Backbones.requireSameArchitecture(backbone, checkpoint.config().headless(), fileOrZooName);
        ComputationGraph graph = init();
        config.loadBackbone(graph, checkpoint);
        return graph;
    }

    /** Nothing can be downloaded: fails in one line naming {@link #initPretrained(String)}. */
    @Override
    public <M extends Model> M initPretrained(PretrainedType type) {
        throw new UnsupportedOperationException("no pretrained weights are downloaded for " + modelName() + ": call "
                + "initPretrained(\"your-backbone-file\") with a checkpoint you have (Google .npz, .safetensors, .pth, "
                + "ONNX, Keras .h5; docs/BENCHMARKS-PAPER.md says where the paper's come from)");
    }

    @Override
    public boolean pretrainedAvailable(PretrainedType type) {
        return false;
    }

    @Override
    public String pretrainedUrl(PretrainedType type) {
        return null;
    }

    @Override
    public long pretrainedChecksum(PretrainedType type) {
        return 0L;
    }

    @Override
    public ModelMetaData metaData() {
        return new ModelMetaData(new int[][]{{backbone.getInChannels(), backbone.getImageHeight(),
                backbone.getImageWidth()}}, 1, ZooType.CNN);
    }

    @Override
    public Class<? extends Model> modelType() {
        return ComputationGraph.class;
    }

    /** The input shape is the backbone's; build from a backbone of another image size instead. */
    @Override
    public void setInputShape(int[][] inputShape) {
        int[][] own = metaData().getInputShape();
        if (!Arrays.deepEquals(own, inputShape)) {
            throw new IllegalArgumentException(modelName() + " takes " + Arrays.toString(own[0])
                    + " inputs; build it on a backbone of that image size instead");
        }
    }
}
