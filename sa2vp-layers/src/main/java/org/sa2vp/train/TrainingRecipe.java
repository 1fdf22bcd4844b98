package org.sa2vp.train;

import lombok.AllArgsConstructor;
import lombok.Builder;
import lombok.Data;
import lombok.NoArgsConstructor;
import lombok.With;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.nd4j.linalg.api.buffer.DataType;
import org.sa2vp.config.ConfigSupport;

/**
 * How SA2VP is trained, serialisable as JSON. The defaults are the authors' scripts
 * (their VTAB launch scripts, {@code docs/AUTHORS-CODE.md} §1.7): AdamW β = (0.9, 0.999), ε = 1e-8, lr 1e-3,
 * weight decay 1e-4 (decoupled, on weights only), 100 epochs with 10 of linear warm-up from 0 then cosine to
 * 1e-7, stepped every iteration, batch 64 with the last partial batch dropped, evaluation every epoch (batch
 * 4 × 64) on the image logits, seed 42.
 *
 * <p>{@link #globals(int)} turns it into the DL4J global configuration for
 * {@link org.sa2vp.model.Sa2vpModel#configuration}: {@link TorchAdam} with a {@link WarmupCosineSchedule}
 * (per-iteration learning rate), and {@code WeightDecay(wd, applyLR = true)} as the default weight regulariser.
 * The SA2VP layers declare their matrices and prompt factors, deep scales and head weight as weights and their
 * biases and LayerNorm vectors as biases, and frozen parameters take no regularisation, so decay reaches exactly
 * the tensors the authors' {@code get_parameter_groups} decays (trainable, ndim &gt; 1, not {@code .bias}).
 */
@Data
@Builder(toBuilder = true)
@With
@NoArgsConstructor
@AllArgsConstructor
public class TrainingRecipe {

    /** Peak learning rate, reached at the end of the warm-up. */
    @Builder.Default
    private double learningRate = 1e-3;
    /** The value the cosine decays towards. */
    @Builder.Default
    private double minLearningRate = 1e-7;
    /** Decoupled (AdamW) weight decay of weights; biases and LayerNorm vectors are not decayed. */
    @Builder.Default
    private double weightDecay = 1e-4;
    /** AdamW's decay rate β₁ of the first moment. */
    @Builder.Default
    private double beta1 = 0.9;
    /** AdamW's decay rate β₂ of the second moment. */
    @Builder.Default
    private double beta2 = 0.999;
    /** AdamW's ε, added to the bias-corrected square root of the second moment (as PyTorch). */
    @Builder.Default
    private double epsilon = 1e-8;
    /** Training epochs; the cosine schedule reaches {@code minLearningRate} at the end of the last. */
    @Builder.Default
    private int epochs = 100;
    /** Epochs of linear warm-up from 0 to {@code learningRate}; at most {@code epochs}. */
    @Builder.Default
    private int warmupEpochs = 10;
    /** Training batch size. */
    @Builder.Default
    private int batchSize = 64;
    /** Drop the last partial batch of every epoch (the authors' {@code drop_last=True}). */
    @Builder.Default
    private boolean dropLast = true;
    /** Batch size for evaluation; 0 means 4 × {@link #batchSize}, as the authors. */
    private int evalBatchSize;
    /** Evaluate every this many epochs (and always after the last). */
    @Builder.Default
    private int evalEveryEpochs = 1;
    /** Seeds parameter initialisation, the data order ({@code seed + epoch}) and dropout. */
    @Builder.Default
    private long seed = 42;
    /** Precision of parameters and activations: {@code FLOAT} or {@code DOUBLE}. */
    @Builder.Default
    private DataType dataType = DataType.FLOAT;

    /** The authors' script settings (the defaults). */
    public static TrainingRecipe paper() {
        return builder().build();
    }

    public TrainingRecipe validated() {
        check(learningRate > 0, "learningRate", "> 0", learningRate);
        check(minLearningRate >= 0 && minLearningRate <= learningRate, "minLearningRate", "in [0, learningRate]",
                minLearningRate);
        check(weightDecay >= 0, "weightDecay", ">= 0", weightDecay);
        check(beta1 >= 0 && beta1 < 1, "beta1", "in [0, 1)", beta1);
        check(beta2 >= 0 && beta2 < 1, "beta2", "in [0, 1)", beta2);
        check(epsilon > 0, "epsilon", "> 0", epsilon);
        check(epochs > 0, "epochs", "> 0", epochs);
        check(warmupEpochs >= 0 && warmupEpochs <= epochs, "warmupEpochs", "in [0, epochs]", warmupEpochs);
        check(batchSize > 0, "batchSize", "> 0", batchSize);
        check(evalBatchSize >= 0, "evalBatchSize", ">= 0 (0: 4 × batchSize)", evalBatchSize);
        check(evalEveryEpochs > 0, "evalEveryEpochs", "> 0", evalEveryEpochs);
        check(dataType == DataType.FLOAT || dataType == DataType.DOUBLE, "dataType", "FLOAT or DOUBLE", dataType);
        return this;
    }

    private static void check(boolean ok, String field, String expected, Object actual) {
        ConfigSupport.check(ok, "TrainingRecipe", field, expected, actual);
    }

    /**
     * This recipe over {@code newEpochs} epochs with the warm-up keeping its share of the run, rounded down (the
     * paper's 10 of 100 epochs become 1 of 10, or 0 of 5): how a shorter run keeps the schedule's shape.
     */
    public TrainingRecipe withEpochsScaled(int newEpochs) {
        return withEpochs(newEpochs).withWarmupEpochs((int) ((long) warmupEpochs * Math.max(newEpochs, 0) / epochs));
    }

    /** Iterations per epoch for {@code trainSize} images ({@code len(train) // batch} with drop_last). */
    public int iterationsPerEpoch(int trainSize) {
        int n = dropLast ? trainSize / batchSize : (trainSize + batchSize - 1) / batchSize;
        if (n == 0) {
            throw new IllegalArgumentException("the training set has " + trainSize + " images, fewer than one batch of "
                    + batchSize + (dropLast ? " (incomplete batches are dropped)" : "") + "; use a batch size of at "
                    + "most " + Math.max(1, trainSize) + " (--batch-size)");
        }
        return n;
    }

    public int effectiveEvalBatchSize() {
        return evalBatchSize > 0 ? evalBatchSize : 4 * batchSize;
    }

    /** The learning rate of every iteration: warm-up over {@code warmupEpochs}, cosine to the end. */
    public WarmupCosineSchedule schedule(int iterationsPerEpoch) {
        return new WarmupCosineSchedule(learningRate, minLearningRate, warmupEpochs * iterationsPerEpoch,
                epochs * iterationsPerEpoch);
    }

    public TorchAdam updater(int iterationsPerEpoch) {
        return new TorchAdam(schedule(iterationsPerEpoch), beta1, beta2, epsilon);
    }

    /**
     * DL4J globals for {@link org.sa2vp.model.Sa2vpModel#configuration}: seed, data type, {@link TorchAdam} on the
     * per-iteration schedule, decoupled weight decay on weights only.
     */
    public NeuralNetConfiguration.Builder globals(int iterationsPerEpoch) {
        validated();
        NeuralNetConfiguration.Builder b = new NeuralNetConfiguration.Builder().seed(seed).dataType(dataType)
                .updater(updater(iterationsPerEpoch));
        if (weightDecay > 0) {
            b.weightDecay(weightDecay, true);
        }
        return b;
    }

    public String toJson() {
        return ConfigSupport.toPrettyJson(this);
    }

    public static TrainingRecipe fromJson(String json) {
        return ConfigSupport.fromJson(json, TrainingRecipe.class).validated();
    }
}
