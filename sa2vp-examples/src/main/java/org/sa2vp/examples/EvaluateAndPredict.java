package org.sa2vp.examples;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.sa2vp.backbone.Backbone;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.data.ImagePreprocessing;
import org.sa2vp.data.StreamedImages;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.method.TuningMethods;
import org.sa2vp.train.EvaluationResult;
import org.sa2vp.zoo.ZooBackbones;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Evaluates a saved adapter (what {@code sa2vp train} or {@link PromptTuneImageFolder} wrote, of any method) on a
 * test split and predicts the class of single image files.
 * <pre>
 *   java -cp sa2vp.jar org.sa2vp.examples.EvaluateAndPredict CHECKPOINT ADAPTER DATA [IMAGE ...]
 *   (DATA/test/&lt;class&gt;/*.png)
 * </pre>
 */
public final class EvaluateAndPredict {

    private EvaluateAndPredict() {
    }

    /** A model ready to classify: the graph, what it was trained as, and how its images are prepared. */
    public record Model(ComputationGraph graph, TuningMethod method, ImagePreprocessing preprocessing) {

        /** The backbone checkpoint with the adapter's trained tensors on top. */
        public static Model load(String checkpointFile, Path adapter) {
            TuningMethod method = TuningMethods.trainedBy(adapter);
            Backbone backbone = method.getBackbone();
            BackboneCheckpoint checkpoint = ZooBackbones.read(checkpointFile, CheckpointOptions.of(backbone));
            ComputationGraph graph = TuningMethods.inferenceGraph(method, checkpoint, adapter);
            // As training saw its images: the preprocessing.json sa2vp train wrote beside the adapter, if any.
            return new Model(graph, method, ImagePreprocessing.recordedNextTo(adapter, ImagePreprocessing.vtab1k()
                    .forInput(backbone.getInChannels(), backbone.getImageHeight(), backbone.getImageWidth())));
        }

        /** The most likely class of one image file and its probability. */
        public Prediction predict(Path image) {
            INDArray logits = graph.output(method.logitVertices().subList(0, 1), false,
                    new INDArray[]{preprocessing.load(image)}, null)[0];
            INDArray probabilities = Transforms.softmax(logits, true).getRow(0);
            int best = probabilities.argMax().getInt(0);
            return new Prediction(image, best, probabilities.getDouble(best));
        }
    }

    /** One image's top-1 class. */
    public record Prediction(Path image, int label, double probability) {
    }

    public static void main(String[] args) {
        if (args.length < 3) {
            System.err.println("usage: EvaluateAndPredict CHECKPOINT ADAPTER DATA [IMAGE ...]");
            System.exit(2);
        }
        Model model = Model.load(args[0], Path.of(args[1]));
        EvaluationResult result = evaluate(model, Path.of(args[2]));
        System.out.println(result.classification().stats());
        System.out.println(result.summary());
        List<Path> images = new ArrayList<>();
        for (int i = 3; i < args.length; i++) {
            images.add(Path.of(args[i]));
        }
        for (Path image : images) {
            Prediction p = model.predict(image);
            System.out.printf("%s: class %d (%.1f%%)%n", image, p.label(), 100 * p.probability());
        }
    }

    /** ND4J's evaluation of the model on {@code data}'s test split. */
    public static EvaluationResult evaluate(Model model, Path data) {
        StreamedImages test = StreamedImages.open(data, "test", model.preprocessing(), false);
        return EvaluationResult.of(model.graph(), model.method(), test, test.classNames(), 32);
    }
}
