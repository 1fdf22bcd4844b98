package org.sa2vp.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.data.LabelledImages;
import org.sa2vp.method.TuningMethod;

import java.util.List;

/**
 * Evaluation of a {@link TuningMethod}'s graph on a labelled set, in inference mode (no dropout), as the SA2VP
 * authors' engine: top-1 accuracy of the method's first logits (SA2VP: the image logits), and the training loss
 * {@code Σ_k w_k·CE(logits_k)} (SA2VP: {@code λ·CE(image) + (1−λ)·CE(prompt)}) averaged over the images, computed
 * in double precision from the logits.
 *
 * @param loss     mean loss
 * @param accuracy fraction of images whose image-logit argmax is the label, in [0, 1]
 * @param correct  number of correctly classified images
 * @param count    number of images
 */
public record Evaluation(double loss, double accuracy, int correct, int count) {

    /**
     * @param method    what the graph was built from
     * @param batchSize images per forward pass
     */
    public static Evaluation of(ComputationGraph graph, TuningMethod method, LabelledImages data, int batchSize) {
        int n = data.size();
        if (n == 0) {
            throw new IllegalArgumentException("cannot evaluate on an empty set");
        }
        DataType dataType = graph.getConfiguration().getDefaultConfiguration().getDataType();
        List<String> vertices = method.logitVertices();
        double[] weights = method.lossWeights();
        double lossSum = 0;
        int correct = 0;
        for (int start = 0; start < n; start += batchSize) {
            int[] indices = new int[Math.min(batchSize, n - start)];
            for (int i = 0; i < indices.length; i++) {
                indices[i] = start + i;
            }
            LabelledImages.Batch batch = data.batch(indices);
            INDArray[] logits = graph.output(vertices, false, new INDArray[]{batch.images().castTo(dataType)}, null);
            double[][][] values = new double[logits.length][][];
            for (int k = 0; k < logits.length; k++) {
                values[k] = logits[k].castTo(DataType.DOUBLE).toDoubleMatrix();
            }
            double[][] image = values[0];
            for (int i = 0; i < indices.length; i++) {
                int label = batch.labels()[i];
                if (label >= image[i].length) {
                    throw new IllegalArgumentException("label " + label + " of image " + indices[i] + " is not below"
                            + " the model's " + image[i].length + " classes");
                }
                for (int k = 0; k < values.length; k++) {
                    lossSum += weights[k] * crossEntropy(values[k][i], label);
                }
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
