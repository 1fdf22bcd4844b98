package org.sa2vp.zoo;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.zoo.ModelMetaData;
import org.deeplearning4j.zoo.PretrainedType;
import org.deeplearning4j.zoo.ZooModel;
import org.deeplearning4j.zoo.ZooType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.Backbones;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.vit.VisionTransformer;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.data.ImageTransforms;
import org.sa2vp.train.TrainingRecipe;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The backbone this project ships, because no pretrained ViT can be downloaded here: a tiny ViT for 32×32 grey
 * images (4×4 patches, so an 8×8 token grid, width 96, 6 blocks of 3 heads, MLP 384, class token), trained from
 * scratch with supervision on Fashion-MNIST by {@code sa2vp pretrain} ({@link #PRETRAINING}). Its weights are a
 * timm-named {@code .safetensors} inside this jar, {@value #WEIGHTS_RESOURCE}, checked against
 * {@link #WEIGHTS_SHA256} when loaded, so {@link #initPretrained()} works offline.
 *
 * <p>Inputs are {@code [N, 1, 32, 32]} with pixels in [0, 1] normalised by {@link #MEAN}/{@link #STD} (so a black
 * background is −1); Fashion-MNIST's 28×28 images are padded with black to 32×32. {@link #backbone()} is the
 * checkpoint for SA2VP and the baselines ({@link org.sa2vp.method.TuningMethod#loadBackbone}).
 */
public final class PretrainedTinyVit extends ZooModel<PretrainedTinyVit> {

    public static final String NAME = "vit_tiny_patch4_32_fashion";
    public static final String WEIGHTS_RESOURCE = "/org/sa2vp/zoo/" + NAME + ".safetensors";
    /** SHA-256 of {@link #WEIGHTS_RESOURCE}, as recorded in {@code docs/DATA.md}. */
    public static final String WEIGHTS_SHA256 = "4dd3c27369be93d56d12a20e5d4ee0bddd5aa6adc2da67045dd86be417bc01a8";
    public static final double MEAN = 0.5;
    public static final double STD = 0.5;
    public static final int IMAGE_SIZE = 32;

    /** The architecture, with the 10-class Fashion-MNIST head. */
    public static final VisionTransformerConfig CONFIG = VisionTransformerConfig.builder().name(NAME).inChannels(1)
            .imageHeight(IMAGE_SIZE).imageWidth(IMAGE_SIZE).patchSize(4).hiddenSize(96).depth(6).numHeads(3)
            .mlpSize(384).numClasses(10).build().validated();

    /**
     * How the bundled weights were trained ({@code sa2vp pretrain} with its defaults): AdamW, lr 2e-3 with one
     * epoch of warm-up then cosine, weight decay 0.05, batch 128, on all 60,000 training images with random ±4
     * pixel shifts and horizontal flips.
     */
    public static final TrainingRecipe PRETRAINING = TrainingRecipe.builder().learningRate(2e-3).minLearningRate(1e-5)
            .weightDecay(0.05).epochs(13).warmupEpochs(1).batchSize(128).evalBatchSize(500).seed(42).build()
            .validated();
    /** Maximum shift of the pretraining augmentation, in pixels. */
    public static final int PRETRAINING_SHIFT = 4;

    /** Pixels in [0, 1] {@code [N, 1, H, W]} → the network's input scale ({@code (x − MEAN) / STD}), a copy. */
    public static INDArray normalize(INDArray pixels) {
        return ImageTransforms.normalize(pixels, MEAN, STD);
    }

    /** Fashion-MNIST images {@code [N, 1, 28, 28]} in [0, 1] → {@code [N, 1, 32, 32]} network inputs (black border). */
    public static INDArray fashionMnistInput(INDArray pixels) {
        return normalize(ImageTransforms.pad(pixels, IMAGE_SIZE, IMAGE_SIZE, 0));
    }

    @Override
    public String modelName() {
        return NAME;
    }

    /** The 10-class Fashion-MNIST classifier with random weights. */
    @Override
    @SuppressWarnings("unchecked")
    public ComputationGraph init() {
        return VisionTransformer.create(CONFIG);
    }

    /** The pretrained Fashion-MNIST classifier, read from this jar (no download). */
    @Override
    public Model initPretrained() {
        ComputationGraph graph = init();
        backbone().assignTo(graph, CONFIG);
        return graph;
    }

    /** Only {@link PretrainedType#MNIST} (Fashion-MNIST) weights exist. */
    @Override
    @SuppressWarnings("unchecked")
    public <M extends Model> M initPretrained(PretrainedType type) {
        if (type != PretrainedType.MNIST) {
            throw new UnsupportedOperationException(NAME + " has Fashion-MNIST weights only (PretrainedType.MNIST), "
                    + "not " + type);
        }
        return (M) initPretrained();
    }

    @Override
    public boolean pretrainedAvailable(PretrainedType type) {
        return type == PretrainedType.MNIST;
    }

    /** The weights as a checkpoint, checksum-verified; read from the jar on every call. */
    public static VitCheckpoint backbone() {
        return read(CheckpointOptions.defaults());
    }

    /**
     * The weights read with {@code options} (another image size, say; the heads default to the bundled 3), named {@link #NAME} rather than after the
     * temporary file they are read from, so what is trained on them names the same backbone on every run.
     */
    static VitCheckpoint read(CheckpointOptions options) {
        Path file = extractWeights();
        try {
            VitCheckpoint read = VitCheckpoint.of(Backbones.read(file, options.numHeads() != null ? options
                    : options.withNumHeads(CONFIG.getNumHeads())));
            return new VitCheckpoint(read.config().withName(NAME), read.weights(), read.sourceGrid(),
                    read.alignment());
        } finally {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // a temporary file; the JVM's temp directory is cleaned eventually
            }
        }
    }

    /** Copies the bundled weights to a temporary file after checking their SHA-256. */
    static Path extractWeights() {
        try (InputStream in = PretrainedTinyVit.class.getResourceAsStream(WEIGHTS_RESOURCE)) {
            if (in == null) {
                throw new CheckpointException(WEIGHTS_RESOURCE + " is missing from the classpath: sa2vp-zoo was built "
                        + "without its bundled weights");
            }
            Path file = Files.createTempFile(NAME, ".safetensors");
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            String actual = sha256(file);
            if (!actual.equals(WEIGHTS_SHA256)) {
                Files.delete(file);
                throw new CheckpointException(WEIGHTS_RESOURCE + ": SHA-256 " + actual + ", expected " + WEIGHTS_SHA256
                        + " (a corrupted or replaced file)");
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + WEIGHTS_RESOURCE + ": " + e.getMessage(), e);
        }
    }

    /** Lower-case hex SHA-256 of a file's bytes. */
    public static String sha256(Path file) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(digest.digest(Files.readAllBytes(file)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String pretrainedUrl(PretrainedType type) {
        return type == PretrainedType.MNIST ? "classpath:" + WEIGHTS_RESOURCE : null;
    }

    /** DL4J's downloader checksum is unused: the weights are in the jar and checked by SHA-256. */
    @Override
    public long pretrainedChecksum(PretrainedType type) {
        return 0L;
    }

    @Override
    public ModelMetaData metaData() {
        return new ModelMetaData(new int[][]{{1, IMAGE_SIZE, IMAGE_SIZE}}, 1, ZooType.CNN);
    }

    @Override
    public Class<? extends Model> modelType() {
        return ComputationGraph.class;
    }

    /** The input shape is fixed by the pretrained weights. */
    @Override
    public void setInputShape(int[][] inputShape) {
        if (inputShape.length != 1 || inputShape[0].length != 3 || inputShape[0][0] != 1
                || inputShape[0][1] != IMAGE_SIZE || inputShape[0][2] != IMAGE_SIZE) {
            throw new IllegalArgumentException(NAME + " takes [1, 32, 32] inputs; resize images instead (the "
                    + "position embedding can be resized through VitCheckpoint.Options.withImageSize)");
        }
    }
}
