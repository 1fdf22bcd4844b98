package org.sa2vp.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.model.Sa2vpModel;

import java.util.List;

/**
 * Evaluation of an SA2VP graph on a labelled set, in inference mode (no dropout), as the authors' engine:
 * top-1 accuracy of the image logits, and the training loss {@code λ·CE(image) + (1−λ)·CE(prompt)} averaged over
 * the images (computed in double precision from the logits).
 *
 * @param loss     mean loss
 * @param accuracy fraction of images whose image-logit argmax is the label, in [0, 1]
 * @param correct  number of correctly classified images
 * @param count    number of images
 */
public record Evaluation(double loss, double accuracy, int correct, int count) {

    /**
     * @param lossWeight λ of the model's configuration
     * @param batchSize  images per forward pass
     */
    public static Evaluation of(ComputationGraph graph, double lossWeight, LabelledImages data, int batchSize) {
        int n = data.size();
        if (n == 0) {
            throw new IllegalArgumentException("cannot evaluate on an empty set");
        }
        DataType dataType = graph.getConfiguration().getDefaultConfiguration().getDataType();
        double lossSum = 0;
        int correct = 0;
        for (int start = 0; start < n; start += batchSize) {
            int[] indices = new int[Math.min(batchSize, n - start)];
            for (int i = 0; i < indices.length; i++) {
                indices[i] = start + i;
            }
            LabelledImages.Batch batch = data.batch(indices);
            INDArray[] logits = graph.output(List.of(Sa2vpModel.IMAGE_LOGITS, Sa2vpModel.PROMPT_LOGITS), false,
                    new INDArray[]{batch.images().castTo(dataType)}, null);
            double[][] image = logits[0].castTo(DataType.DOUBLE).toDoubleMatrix();
            double[][] prompt = logits[1].castTo(DataType.DOUBLE).toDoubleMatrix();
            for (int i = 0; i < indices.length; i++) {
                int label = batch.labels()[i];
                if (label >= image[i].length) {
                    throw new IllegalArgumentException("label " + label + " of image " + indices[i] + " is not below"
                            + " the model's " + image[i].length + " classes");
                }
                lossSum += lossWeight * crossEntropy(image[i], label) + (1 - lossWeight) * crossEntropy(prompt[i], label);
                if (argmax(image[i]) == label) {
                    correct++;
                }
            }
        }
        return new Evaluation(lossSum / n, (double) correct / n, correct, n);
    }

    /** −log softmax(logits)[label], stable. */
    static double crossEntropy(double[] logits, int label) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (double v : logits) {
            sum += Math.exp(v - max);
        }
        return max + Math.log(sum) - logits[label];
    }

    /** Index of the largest value, the first one on ties (as torch's topk for distinct values). */
    static int argmax(double[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }
}
