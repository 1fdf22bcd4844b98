package org.sa2vp.examples;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.learning.config.Adam;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.Backbones;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.backbone.weights.keras.KerasVisionTransformer;
import org.sa2vp.data.ImagePreprocessing;
import org.sa2vp.data.StreamedImages;
import org.sa2vp.method.TuningMethods;
import org.sa2vp.model.Sa2vpConfig;
import org.sa2vp.model.Sa2vpModel;
import org.sa2vp.train.EvaluationResult;
import org.sa2vp.train.TrainingBatches;
import org.sa2vp.train.TrainingRecipe;

import java.nio.file.Path;

/**
 * Attaches SA2VP to a ViT imported with DL4J's {@code KerasModelImport} and trains it with DL4J's own
 * {@code ComputationGraph.fit(iterator, epochs)}: the imported graph's weights are copied into the SA2VP graph and
 * frozen there; only the prompts, adapters and head train.
 * <pre>
 *   java -cp sa2vp.jar org.sa2vp.examples.AttachToKerasVit VIT.h5 DATA [EPOCHS]
 *   (DATA/train/&lt;class&gt;/*.png and DATA/val/&lt;class&gt;/...)
 * </pre>
 */
public final class AttachToKerasVit {

    private AttachToKerasVit() {
    }

    /** The SA2VP graph's evaluation on the validation split before and after training. */
    public record Result(EvaluationResult before, EvaluationResult after) {
    }

    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: AttachToKerasVit VIT.h5 DATA [EPOCHS]");
            System.exit(2);
        }
        Result result = run(Path.of(args[0]), Path.of(args[1]), args.length > 2 ? Integer.parseInt(args[2]) : 5);
        System.out.println(result.after().classification().stats());
        System.out.println("before training: " + result.before().summary());
        System.out.println("after training:  " + result.after().summary());
    }

    /** Imports, attaches, trains for {@code epochs} epochs; evaluates on the validation split before and after. */
    public static Result run(Path h5, Path data, int epochs) {
        // 1. The user's ViT as DL4J imports it (our registered Keras layers handle the ViT-specific ones), and the
        //    backbone recognised in it.
        ComputationGraph vit = KerasVisionTransformer.importModel(h5);
        BackboneCheckpoint backbone = Backbones.fromGraph(vit, CheckpointOptions.defaults());
        VisionTransformerConfig architecture = VitCheckpoint.of(backbone).config();

        // 2. Images at the backbone's input size.
        ImagePreprocessing preprocessing = ImagePreprocessing.vtab1k().forInput(architecture.getInChannels(),
                architecture.getImageHeight(), architecture.getImageWidth());
        StreamedImages train = StreamedImages.open(data, "train", preprocessing, false);
        StreamedImages validation = StreamedImages.open(data, "val", preprocessing, false);

        // 3. SA2VP on it: the ViT's weights are copied in and frozen.
        Sa2vpConfig config = Sa2vpConfig.of(architecture, train.numClasses());
        ComputationGraph sa2vp = TuningMethods.attach(config, backbone,
                Sa2vpModel.defaultGlobals().updater(new Adam(1e-2)));
        EvaluationResult before = EvaluationResult.of(sa2vp, config, validation, validation.classNames(), 32);

        // 4. DL4J's fit over our iterator (it reshuffles every epoch), then ND4J's Evaluation.
        TrainingRecipe order = TrainingRecipe.paper().withBatchSize(Math.min(16, train.size()));
        sa2vp.fit(TrainingBatches.forTraining(train, config, order), epochs);
        return new Result(before, EvaluationResult.of(sa2vp, config, validation, validation.classNames(), 32));
    }
}
