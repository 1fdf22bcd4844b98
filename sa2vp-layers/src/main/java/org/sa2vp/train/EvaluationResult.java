package org.sa2vp.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.evaluation.classification.ConfusionMatrix;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;
import org.sa2vp.data.LabelledImages;
import org.sa2vp.method.TuningMethod;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A {@link TuningMethod}'s graph evaluated on a labelled set in inference mode (no dropout), as the SA2VP authors'
 * engine does: ND4J's {@link Evaluation} of the method's first logits (SA2VP: the image logits; accuracy,
 * per-class precision, recall and F1, confusion matrix), plus the training loss, which ND4J's evaluation does not
 * compute: {@code Σ_k w_k·CE(logits_k)} (SA2VP: {@code λ·CE(image) + (1−λ)·CE(prompt)}) averaged over the images,
 * in double precision from the logits.
 *
 * @param classification ND4J's evaluation of the first logits (class names attached when known)
 * @param loss           mean loss
 */
public record EvaluationResult(Evaluation classification, double loss) {

    /** File names {@link #write} uses. */
    public static final String REPORT = "evaluation.txt";
    public static final String JSON = "evaluation.json";
    public static final String CONFUSION = "confusion.csv";

    /**
     * @param method     what the graph was built from
     * @param classNames names in label order, or null for class indices
     * @param batchSize  images per forward pass
     */
    public static EvaluationResult of(ComputationGraph graph, TuningMethod method, LabelledImages data,
                                      List<String> classNames, int batchSize) {
        if (data.size() == 0) {
            throw new IllegalArgumentException("cannot evaluate on an empty set");
        }
        DataType dataType = graph.getConfiguration().getDefaultConfiguration().getDataType();
        return of(graph, method, TrainingBatches.inOrder(data, method, batchSize, dataType), classNames);
    }

    /**
     * Evaluates every batch the iterator yields from where it stands: the images are the first feature array, the
     * class of each image the argmax of the first label array (one-hot).
     *
     * @param classNames names in label order, or null for class indices
     */
    public static EvaluationResult of(ComputationGraph graph, TuningMethod method, MultiDataSetIterator data,
                                      List<String> classNames) {
        int classes = method.getNumClasses();
        if (classNames != null && classNames.size() != classes) {
            throw new IllegalArgumentException(classNames.size() + " class names for a model of " + classes
                    + " classes");
        }
        Evaluation evaluation = classNames != null ? new Evaluation(classNames) : new Evaluation(classes);
        DataType dataType = graph.getConfiguration().getDefaultConfiguration().getDataType();
        List<String> vertices = method.logitVertices();
        double[] weights = method.lossWeights();
        double lossSum = 0;
        int count = 0;
        while (data.hasNext()) {
            MultiDataSet batch = data.next();
            if (batch.getFeatures(0).size(0) == 0) {
                continue;  // every image of the batch was left out (unreadable files of a streamed set)
            }
            INDArray oneHot = batch.getLabels(0);
            if (oneHot.rank() != 2 || oneHot.size(1) != classes) {
                throw new IllegalArgumentException("evaluation labels of shape " + Arrays.toString(oneHot.shape())
                        + ", expected one-hot [batch, " + classes + "]");
            }
            int[] labels = oneHot.argMax(1).toIntVector();
            INDArray[] logits = graph.output(vertices, false, new INDArray[]{batch.getFeatures(0).castTo(dataType)},
                    null);
            for (int k = 0; k < logits.length; k++) {
                double[][] values = logits[k].castTo(DataType.DOUBLE).toDoubleMatrix();
                for (int i = 0; i < labels.length; i++) {
                    lossSum += weights[k] * crossEntropy(values[i], labels[i]);
                }
            }
            evaluation.eval(oneHot.castTo(DataType.FLOAT), logits[0].castTo(DataType.FLOAT));
            count += labels.length;
        }
        if (count == 0) {
            throw new IllegalArgumentException("cannot evaluate on an empty set");
        }
        return new EvaluationResult(evaluation, lossSum / count);
    }

    /** Fraction of images whose first-logit argmax is the label, in [0, 1]. */
    public double accuracy() {
        return classification.accuracy();
    }

    /** Number of correctly classified images (the confusion matrix's diagonal). */
    public int correct() {
        ConfusionMatrix<Integer> confusion = classification.getConfusion();
        int correct = 0;
        for (Integer c : confusion.getClasses()) {
            correct += confusion.getCount(c, c);
        }
        return correct;
    }

    /** Number of images evaluated. */
    public int count() {
        return (int) classification.getNumRowCounter();
    }

    /** One line: accuracy, macro F1 and loss. */
    public String summary() {
        return String.format(Locale.ROOT, "accuracy %.2f%% (%d/%d)  macro F1 %.4f  loss %.4f", 100 * accuracy(),
                correct(), count(), classification.f1(org.nd4j.evaluation.EvaluationAveraging.Macro), loss);
    }

    /**
     * Writes {@link #REPORT} (ND4J's statistics with per-class precision, recall and F1 and the confusion matrix,
     * then the loss), {@link #JSON} (ND4J's JSON form, which {@code Evaluation.fromJson} reads back) and
     * {@link #CONFUSION} (rows: actual class, columns: predicted) into {@code directory}, each atomically.
     */
    public void write(Path directory) {
        AtomicFiles.writeString(directory.resolve(REPORT), classification.stats(false, true)
                + String.format(Locale.ROOT, "%nLoss (weighted cross-entropy of every logit output): %.6f%n", loss));
        AtomicFiles.writeString(directory.resolve(JSON), classification.toJson());
        AtomicFiles.writeString(directory.resolve(CONFUSION), confusionCsv());
    }

    private String confusionCsv() {
        int classes = classification.getConfusion().getClasses().size();
        List<String> names = classification.getLabelsList();
        StringBuilder csv = new StringBuilder("actual\\predicted");
        for (int c = 0; c < classes; c++) {
            csv.append(',').append(name(names, c));
        }
        csv.append('\n');
        for (int a = 0; a < classes; a++) {
            csv.append(name(names, a));
            for (int p = 0; p < classes; p++) {
                csv.append(',').append(classification.getConfusion().getCount(a, p));
            }
            csv.append('\n');
        }
        return csv.toString();
    }

    private static String name(List<String> names, int c) {
        String name = names != null && c < names.size() ? names.get(c) : Integer.toString(c);
        return name.contains(",") || name.contains("\"") ? '"' + name.replace("\"", "\"\"") + '"' : name;
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
}
