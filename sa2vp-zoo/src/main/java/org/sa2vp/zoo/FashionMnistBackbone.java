package org.sa2vp.zoo;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.zoo.ModelMetaData;
import org.deeplearning4j.zoo.PretrainedType;
import org.deeplearning4j.zoo.ZooModel;
import org.deeplearning4j.zoo.ZooType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.Backbone;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.backbone.weights.StateDict;
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
 * What the backbones this project ships have in common, because no pretrained backbone can be downloaded here: each
 * is trained from scratch with supervision on Fashion-MNIST by {@code sa2vp pretrain --model NAME}, takes
 * {@code [N, 1, 32, 32]} inputs with pixels in [0, 1] normalised by {@link #MEAN}/{@link #STD} (so a black background
 * is −1; Fashion-MNIST's 28×28 images are padded with black to 32×32), and keeps its weights as a timm-named
 * {@code .safetensors} inside this jar, checked against a recorded SHA-256 when read, so
 * {@link #initPretrained()} works offline. A subclass gives its architecture, recipe and how its family reads the
 * weights.
 *
 * @param <T> the subclass, as DL4J's {@link ZooModel} wants it
 */
public abstract class FashionMnistBackbone<T extends FashionMnistBackbone<T>> extends ZooModel<T> {

    public static final double MEAN = 0.5;
    public static final double STD = 0.5;
    public static final int IMAGE_SIZE = 32;
    /** Grey images: one channel. */
    public static final int CHANNELS = 1;
    /** Maximum shift of the pretraining augmentation (random ±4 pixel shifts and horizontal flips), in pixels. */
    public static final int PRETRAINING_SHIFT = 4;

    /** Pixels in [0, 1] {@code [N, 1, H, W]} → the network's input scale ({@code (x − MEAN) / STD}), a copy. */
    public static INDArray normalize(INDArray pixels) {
        return ImageTransforms.normalize(pixels, MEAN, STD);
    }

    /** Fashion-MNIST images {@code [N, 1, 28, 28]} in [0, 1] → {@code [N, 1, 32, 32]} network inputs (black border). */
    public static INDArray fashionMnistInput(INDArray pixels) {
        return normalize(ImageTransforms.pad(pixels, IMAGE_SIZE, IMAGE_SIZE, 0));
    }

    private final String name;
    private final Backbone classifier;
    private final TrainingRecipe pretraining;
    private final String weightsSha256;

    /**
     * @param name          also of the weights file ({@code NAME.safetensors}) and of {@code --backbone zoo:NAME}
     * @param classifier    the architecture, with the 10-class Fashion-MNIST head
     * @param pretraining   how the bundled weights were trained: the defaults of {@code sa2vp pretrain --model NAME}
     * @param weightsSha256 SHA-256 of the bundled weights, as recorded in {@code docs/DATA.md}
     */
    protected FashionMnistBackbone(String name, Backbone classifier, TrainingRecipe pretraining, String weightsSha256) {
        this.name = name;
        this.classifier = classifier;
        this.pretraining = pretraining;
        this.weightsSha256 = weightsSha256;
    }

    /** The name, also of the weights file ({@code NAME.safetensors}) and of {@code --backbone zoo:NAME}. */
    public final String name() {
        return name;
    }

    /** The architecture, with the 10-class Fashion-MNIST head. */
    public Backbone classifier() {
        return classifier;
    }

    /** How the bundled weights were trained: the defaults of {@code sa2vp pretrain --model NAME}. */
    public final TrainingRecipe pretraining() {
        return pretraining;
    }

    /** SHA-256 of the bundled weights, as recorded in {@code docs/DATA.md}. */
    public final String weightsSha256() {
        return weightsSha256;
    }

    /** The bundled weights file read by the family's reader with {@code options} (image size given where null). */
    protected abstract BackboneCheckpoint readWeights(Path file, CheckpointOptions options);

    /** Copies the weights into a classifier graph of {@link #classifier()} (as {@link #init()} made it). */
    protected abstract void assign(BackboneCheckpoint weights, ComputationGraph graph);

    /**
     * The weights of a classifier graph of {@link #classifier()} (as {@link #init()} or full fine-tuning builds it)
     * under timm's names, head included: what the bundled file holds.
     */
    public abstract StateDict export(ComputationGraph classifier);

    /** The resource path of the bundled weights. */
    public final String weightsResource() {
        return "/org/sa2vp/zoo/" + name() + ".safetensors";
    }

    @Override
    public final String modelName() {
        return name();
    }

    /**
     * The weights read with {@code options} (another image size, say), named {@link #name()} rather than after the
     * temporary file they are read from, so what is trained on them names the same backbone on every run.
     */
    public final BackboneCheckpoint checkpoint(CheckpointOptions options) {
        Path file = extractWeights();
        try {
            return readWeights(file, options);
        } finally {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // a temporary file; the JVM's temp directory is cleaned eventually
            }
        }
    }

    /** The pretrained Fashion-MNIST classifier, read from this jar (no download). */
    @Override
    public final Model initPretrained() {
        ComputationGraph graph = init();
        assign(checkpoint(CheckpointOptions.defaults()), graph);
        return graph;
    }

    /** Only {@link PretrainedType#MNIST} (Fashion-MNIST) weights exist. */
    @Override
    @SuppressWarnings("unchecked")
    public final <M extends Model> M initPretrained(PretrainedType type) {
        if (type != PretrainedType.MNIST) {
            throw new UnsupportedOperationException(name() + " has Fashion-MNIST weights only (PretrainedType.MNIST), "
                    + "not " + type);
        }
        return (M) initPretrained();
    }

    @Override
    public final boolean pretrainedAvailable(PretrainedType type) {
        return type == PretrainedType.MNIST;
    }

    /** Copies the bundled weights to a temporary file after checking their SHA-256. */
    public final Path extractWeights() {
        String resource = weightsResource();
        try (InputStream in = FashionMnistBackbone.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new CheckpointException(resource + " is not on the classpath: this build of sa2vp-zoo does not "
                        + "bundle the weights of " + name + " (they are made by: sa2vp pretrain --model " + name + ")");
            }
            Path file = Files.createTempFile(name(), ".safetensors");
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            String actual = sha256(file);
            if (!actual.equals(weightsSha256())) {
                Files.delete(file);
                throw new CheckpointException(resource + ": SHA-256 " + actual + ", expected " + weightsSha256()
                        + " (a corrupted or replaced file)");
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource + ": " + e.getMessage(), e);
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
    public final String pretrainedUrl(PretrainedType type) {
        return type == PretrainedType.MNIST ? "classpath:" + weightsResource() : null;
    }

    /** DL4J's downloader checksum is unused: the weights are in the jar and checked by SHA-256. */
    @Override
    public final long pretrainedChecksum(PretrainedType type) {
        return 0L;
    }

    @Override
    public final ModelMetaData metaData() {
        return new ModelMetaData(new int[][]{{1, IMAGE_SIZE, IMAGE_SIZE}}, 1, ZooType.CNN);
    }

    @Override
    public final Class<? extends Model> modelType() {
        return ComputationGraph.class;
    }

    /** The input shape is fixed by the pretrained weights. */
    @Override
    public final void setInputShape(int[][] inputShape) {
        if (inputShape.length != 1 || inputShape[0].length != 3 || inputShape[0][0] != 1
                || inputShape[0][1] != IMAGE_SIZE || inputShape[0][2] != IMAGE_SIZE) {
            throw new IllegalArgumentException(name() + " takes [1, 32, 32] inputs; resize images instead (read the "
                    + "weights with CheckpointOptions.withImageSize for another size)");
        }
    }
}
