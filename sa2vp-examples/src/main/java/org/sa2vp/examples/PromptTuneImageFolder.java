package org.sa2vp.examples;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.listeners.ScoreIterationListener;
import org.sa2vp.backbone.Backbone;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.data.ImagePreprocessing;
import org.sa2vp.data.StreamedImages;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.method.TuningMethods;
import org.sa2vp.model.Sa2vpMethods;
import org.sa2vp.train.Trainer;
import org.sa2vp.train.TrainingRecipe;
import org.sa2vp.zoo.ZooBackbones;

import java.nio.file.Path;

/**
 * Prompt-tunes SA2VP on your images with a backbone checkpoint file: {@code DATA/train/<class>/*.png} (and
 * {@code DATA/val/<class>/...}), streamed batch by batch through DataVec, the authors' recipe, DL4J listeners, and
 * the adapter file written to {@code OUT}.
 * <pre>
 *   java -cp sa2vp.jar org.sa2vp.examples.PromptTuneImageFolder DATA CHECKPOINT OUT [EPOCHS] [HEADS]
 *   (CHECKPOINT: a ViT .npz / .safetensors / .pth / .onnx / .h5 file, or zoo:vit_tiny_patch4_32_fashion)
 * </pre>
 */
public final class PromptTuneImageFolder {

    private PromptTuneImageFolder() {
    }

    public static void main(String[] args) {
        if (args.length < 3) {
            System.err.println("usage: PromptTuneImageFolder DATA CHECKPOINT OUT [EPOCHS] [HEADS]");
            System.exit(2);
        }
        Trainer.Result result = run(Path.of(args[0]), args[1], Path.of(args[2]),
                args.length > 3 ? Integer.parseInt(args[3]) : 10, args.length > 4 ? Integer.parseInt(args[4]) : null);
        System.out.printf("best validation accuracy %.4f at epoch %d%n", result.bestAccuracy(), result.bestEpoch());
    }

    /** Trains SA2VP for {@code epochs} epochs; {@code heads} only for checkpoints that do not store them. */
    public static Trainer.Result run(Path data, String checkpointFile, Path out, int epochs, Integer heads) {
        // 1. The frozen backbone, from a file (or the bundled zoo), and its input size.
        BackboneCheckpoint checkpoint = ZooBackbones.read(checkpointFile,
                CheckpointOptions.defaults().withNumHeads(heads));
        Backbone backbone = checkpoint.config().headless();

        // 2. The images, decoded batch by batch with the authors' VTAB-1k preprocessing at the backbone's size.
        ImagePreprocessing preprocessing = ImagePreprocessing.vtab1k().forInput(backbone.getInChannels(),
                backbone.getImageHeight(), backbone.getImageWidth());
        StreamedImages train = StreamedImages.open(data, "train", preprocessing, false);
        StreamedImages validation = StreamedImages.open(data, "val", preprocessing, false);

        // 3. SA2VP with the authors' settings, on the paper's recipe shortened to `epochs`.
        TuningMethod sa2vp = TuningMethods.create(Sa2vpMethods.SA2VP, backbone, train.numClasses());
        TrainingRecipe recipe = TrainingRecipe.paper().withEpochsScaled(epochs)
                .withBatchSize(Math.min(64, train.size()));
        ComputationGraph graph = Trainer.newGraph(sa2vp, recipe, train.size());
        sa2vp.loadBackbone(graph, checkpoint);

        // 4. Train: checkpoints, metrics, ND4J evaluation reports and adapter.safetensors go to `out`.
        return Trainer.start(graph, sa2vp, recipe, train, validation, out)
                .classNames(train.classNames())
                .addListeners(new ScoreIterationListener(10))
                .fit();
    }
}
