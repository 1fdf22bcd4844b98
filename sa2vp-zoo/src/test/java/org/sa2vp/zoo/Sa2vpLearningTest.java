package org.sa2vp.zoo;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.schedule.PolySchedule;
import org.nd4j.linalg.schedule.ScheduleType;
import org.sa2vp.backbone.vit.VisionTransformer;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.data.FashionMnist;
import org.sa2vp.data.ImageTransforms;
import org.sa2vp.data.InMemoryImages;
import org.sa2vp.data.RotationTask;
import org.sa2vp.layers.Implementation;
import org.sa2vp.model.Sa2vpConfig;
import org.sa2vp.model.Sa2vpModel;

import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The proof that SA2VP learns what a linear probe cannot, on real images and a backbone that was trained first:
 * <ol>
 *   <li>a tiny ViT is trained from scratch on Fashion-MNIST clothing classes (upright images, 28×28 padded to
 *   32×32, 4×4 patches of 8×8 pixels) and must classify held-out test images well;</li>
 *   <li>its weights go through the checkpoint path a user takes ({@link VitCheckpoint#export} →
 *   {@link VitCheckpoint#infer}) into two models for a VTAB-style downstream task it never saw, predicting the
 *   rotation (0/90/180/270°) of Fashion-MNIST test images: the frozen ViT with a new linear head on the final
 *   class-token features (the paper's linear probe), and SA2VP on the same frozen ViT;</li>
 *   <li>both train on the same images, in the same order, for the same number of steps, each with its own
 *   learning rate, and SA2VP must be clearly more accurate on held-out rotated images.</li>
 * </ol>
 * Measured (held-out accuracy; pretraining / linear probe / SA2VP): seed 42: 0.787 / 0.572 / 0.720; seed 7:
 * 0.783 / 0.552 / 0.754; seed 1: 0.763 / 0.514 / 0.672, so SA2VP leads by 0.15–0.20; about 2 minutes on 2 shared
 * cores. The probe is capped by what the frozen class-token features say about orientation (during development,
 * on 1000 training images, it stayed near 0.55 with learning rates from 1e-2 to 5e-2 and up to 15 epochs, while
 * its training accuracy stayed below 0.65); SA2VP changes the features themselves.
 *
 * <p>Reads the bundled {@link FashionMnistSample} (4,000 training images, the first 4,500 test images). All seeds are
 * fixed.
 */
class Sa2vpLearningTest {

    /** Fixed; {@code -Dsa2vp.learningTest.seed=7} repeats the measurement on another seed. */
    private static final long SEED = Long.getLong("sa2vp.learningTest.seed", 42);
    private static final int IMAGE_SIZE = 32;
    private static final int BATCH_SIZE = 50;

    private static final int PRETRAIN_IMAGES = 4000;
    private static final int PRETRAIN_EPOCHS = 5;
    private static final double PRETRAIN_LEARNING_RATE = 2e-3;
    private static final double MIN_PRETRAIN_ACCURACY = 0.75;

    /** Test-split images used to check the pretraining; the rotation task takes the ones after them. */
    private static final int HELD_OUT_IMAGES = 1000;
    private static final int TARGET_TRAIN_IMAGES = 3000;
    private static final int TARGET_TEST_IMAGES = 500;
    private static final int TARGET_EPOCHS = 4;
    private static final double PROBE_LEARNING_RATE = 1e-2;
    private static final double SA2VP_LEARNING_RATE = 1e-2;
    private static final double WEIGHT_DECAY = 1e-4;
    /** SA2VP must beat the probe by this much accuracy (measured margins: see the class comment). */
    private static final double MIN_MARGIN = 0.10;

    /** The tiny backbone: 4×4 patches of 8×8 grey pixels, width 48, 4 blocks of 3 heads, 10 clothing classes. */
    private static final VisionTransformerConfig BACKBONE = VisionTransformerConfig.builder().name("fashion-vit")
            .inChannels(1).imageHeight(IMAGE_SIZE).imageWidth(IMAGE_SIZE).patchSize(8).hiddenSize(48).depth(4)
            .numHeads(3).mlpSize(96).numClasses(FashionMnist.NUM_CLASSES).build().validated();

    @Test
    void sa2vpBeatsTheLinearProbeOnAFrozenPretrainedVit() {
        long start = System.nanoTime();
        InMemoryImages fashionTrain = vitInput(FashionMnistSample.load(FashionMnist.Split.TRAIN).slice(0, PRETRAIN_IMAGES));
        // Disjoint parts of the test split, none seen in pretraining: held-out clothing images, then the rotation
        // task's training and test images.
        InMemoryImages fashionTest = FashionMnistSample.load(FashionMnist.Split.TEST);
        InMemoryImages heldOut = vitInput(fashionTest.slice(0, HELD_OUT_IMAGES));
        InMemoryImages rotationTrain = RotationTask.of(
                vitInput(fashionTest.slice(HELD_OUT_IMAGES, TARGET_TRAIN_IMAGES)), SEED);
        InMemoryImages rotationTest = RotationTask.of(
                vitInput(fashionTest.slice(HELD_OUT_IMAGES + TARGET_TRAIN_IMAGES, TARGET_TEST_IMAGES)), SEED + 1);

        ComputationGraph vit = new ComputationGraph(VisionTransformer.configuration(BACKBONE,
                globals(new Adam(PRETRAIN_LEARNING_RATE)), false));
        vit.init();
        train(vit, fashionTrain, PRETRAIN_EPOCHS, labels -> new INDArray[]{labels});
        double pretrainAccuracy = accuracy(VisionTransformer.logits(vit, heldOut.images()), heldOut);
        long pretrained = System.nanoTime();
        System.out.printf("pretraining: %d images × %d epochs, held-out clothing accuracy %.3f (%.0f s)%n",
                PRETRAIN_IMAGES, PRETRAIN_EPOCHS, pretrainAccuracy, (pretrained - start) / 1e9);
        assertTrue(pretrainAccuracy > MIN_PRETRAIN_ACCURACY, "pretrained ViT accuracy " + pretrainAccuracy);

        VitCheckpoint checkpoint = VitCheckpoint.infer(VitCheckpoint.export(vit, BACKBONE),
                OptionalInt.of(BACKBONE.getNumHeads()), VitCheckpoint.Options.defaults());
        assertEquals(BACKBONE.withName(checkpoint.config().getName()), checkpoint.config());

        double probeAccuracy = linearProbe(checkpoint, rotationTrain, rotationTest);
        long probed = System.nanoTime();
        double sa2vpAccuracy = sa2vp(checkpoint, rotationTrain, rotationTest);
        long end = System.nanoTime();
        System.out.printf("rotation task (%d training images × %d epochs): linear probe %.3f (%.0f s), SA2VP %.3f "
                        + "(%.0f s); total %.0f s%n", TARGET_TRAIN_IMAGES, TARGET_EPOCHS, probeAccuracy,
                (probed - pretrained) / 1e9, sa2vpAccuracy, (end - probed) / 1e9, (end - start) / 1e9);
        assertTrue(sa2vpAccuracy >= probeAccuracy + MIN_MARGIN,
                "SA2VP " + sa2vpAccuracy + " vs linear probe " + probeAccuracy);
    }

    /** The frozen ViT with a new 4-way head on its final class-token features; only the head trains. */
    private static double linearProbe(VitCheckpoint checkpoint, InMemoryImages train, InMemoryImages test) {
        VisionTransformerConfig probe = checkpoint.config().withNumClasses(RotationTask.NUM_CLASSES);
        ComputationGraph graph = new ComputationGraph(VisionTransformer.configuration(probe,
                globals(targetUpdater(PROBE_LEARNING_RATE, train)), true));
        graph.init();
        checkpoint.assignTo(graph, probe);
        train(graph, train, TARGET_EPOCHS, labels -> new INDArray[]{labels});
        return accuracy(VisionTransformer.logits(graph, test.images()), test);
    }

    /**
     * SA2VP on the same frozen ViT; prompts, adapters, fusion scales and the head train. The authors' defaults
     * (prompt rank 16, adapter width 16, γ 0.1, λ 0.8) except the layer sets, which must fit 4 blocks, and
     * dropout, off as for the probe: a few hundred steps need no regularisation.
     */
    private static double sa2vp(VitCheckpoint checkpoint, InMemoryImages train, InMemoryImages test) {
        Sa2vpConfig config = Sa2vpConfig.builder().backbone(checkpoint.config().withNumClasses(0))
                .numClasses(RotationTask.NUM_CLASSES).imageToPromptLayers(List.of(0, 2)).deepPromptLayers(List.of(2))
                .dropout(0).build().validated();
        ComputationGraph graph = new ComputationGraph(Sa2vpModel.configuration(config,
                globals(targetUpdater(SA2VP_LEARNING_RATE, train)), Implementation.FAST));
        graph.init();
        Sa2vpModel.loadBackbone(graph, config, checkpoint);
        train(graph, train, TARGET_EPOCHS, Sa2vpModel::labels);
        return accuracy(Sa2vpModel.logits(graph, test.images())[0], test);
    }

    /** Adam whose learning rate falls linearly to 0 over the target training (the same schedule for both). */
    private static Adam targetUpdater(double learningRate, InMemoryImages train) {
        int steps = TARGET_EPOCHS * ((train.size() + BATCH_SIZE - 1) / BATCH_SIZE);
        return new Adam(new PolySchedule(ScheduleType.ITERATION, learningRate, 1.0, steps));
    }

    /** Float32, AdamW (decoupled weight decay, which frozen backbone parameters never get), fixed seed. */
    private static NeuralNetConfiguration.Builder globals(Adam updater) {
        return new NeuralNetConfiguration.Builder().seed(SEED).dataType(DataType.FLOAT).updater(updater)
                .weightDecay(WEIGHT_DECAY, true);
    }

    /** Fashion-MNIST {@code [N, 1, 28, 28]} in [0, 1] → the backbone's input {@code [N, 1, 32, 32]} in [−1, 1]. */
    private static InMemoryImages vitInput(InMemoryImages images) {
        return images.withImages(ImageTransforms.normalize(
                ImageTransforms.pad(images.images(), IMAGE_SIZE, IMAGE_SIZE, 0), 0.5, 0.5));
    }

    /**
     * Mini-batch training in a new seeded order every epoch.
     *
     * @param labels the graph's label arrays for one-hot labels {@code [B, classes]}
     */
    private static void train(ComputationGraph graph, InMemoryImages data, int epochs,
                              Function<INDArray, INDArray[]> labels) {
        Nd4j.getRandom().setSeed(SEED);
        Random order = new Random(SEED);
        int n = data.size();
        INDArray flatImages = data.images().reshape('c', n, data.images().length() / n);
        INDArray oneHot = data.oneHot();
        long[] imageShape = data.images().shape();
        for (int epoch = 0; epoch < epochs; epoch++) {
            int[] permutation = permutation(n, order);
            for (int from = 0; from < n; from += BATCH_SIZE) {
                int[] rows = Arrays.copyOfRange(permutation, from, Math.min(from + BATCH_SIZE, n));
                INDArray images = Nd4j.pullRows(flatImages, 1, rows)
                        .reshape('c', rows.length, imageShape[1], imageShape[2], imageShape[3]);
                graph.fit(new MultiDataSet(new INDArray[]{images}, labels.apply(Nd4j.pullRows(oneHot, 1, rows))));
            }
        }
    }

    private static int[] permutation(int n, Random random) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = p[i];
            p[i] = p[j];
            p[j] = swap;
        }
        return p;
    }

    /** Fraction of images whose largest logit {@code [N, classes]} is at the true class. */
    private static double accuracy(INDArray logits, InMemoryImages truth) {
        INDArray predicted = logits.argMax(1);
        int[] labels = truth.labels();
        int correct = 0;
        for (int i = 0; i < truth.size(); i++) {
            if (predicted.getInt(i) == labels[i]) {
                correct++;
            }
        }
        return (double) correct / truth.size();
    }
}
