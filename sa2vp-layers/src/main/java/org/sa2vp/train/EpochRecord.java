package org.sa2vp.train;

import lombok.AllArgsConstructor;
import lombok.Data;
import lombok.NoArgsConstructor;

/** One row of {@code metrics.csv}: the state at the end of an epoch. */
@Data
@NoArgsConstructor
@AllArgsConstructor
public class EpochRecord {
    /** 1-based epoch number. */
    private int epoch;
    /** Global iterations (optimizer steps) done at the end of the epoch. */
    private int iteration;
    /** Learning rate of the epoch's last step. */
    private double learningRate;
    /** Mean training loss λ·CE(image) + (1−λ)·CE(prompt) over the epoch's steps (without the decay term). */
    private double trainLoss;
    /** Validation loss, or null when this epoch was not evaluated. */
    private Double valLoss;
    /** Validation top-1 accuracy of the image logits in [0, 1], or null when not evaluated. */
    private Double valAccuracy;
    /** Wall-clock seconds of the epoch: training, evaluation and mid-epoch checkpoints, summed over resumed sessions. */
    private double seconds;
}
