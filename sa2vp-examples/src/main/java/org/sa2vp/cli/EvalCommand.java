package org.sa2vp.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sa2vp.backbone.Backbone;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.Backbones;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.data.InMemoryImages;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.method.TuningMethods;
import org.sa2vp.train.EvaluationResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code sa2vp eval}: accuracy and loss of what a tuning method trained, on a labelled set. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Evaluates the adapter file that 'sa2vp train' writes (SA2VP's prompts and adapters, or what "
                + "any other method trained) on its frozen backbone: prints the top-1 accuracy of the predicted "
                + "logits and the method's loss (SA2VP: λ·CE(image) + (1−λ)·CE(prompt)), in inference mode.",
                "The method and its configuration (rank, adapters, layers, classes, image size) come from the adapter "
                        + "file; the backbone must be the checkpoint it was trained on (the architecture is checked)."},
        footer = {"", "Example:", "  sa2vp eval --backbone imagenet21k_ViT-B_16.npz --prompts runs/cifar/"
                + "adapter.safetensors --images test_x.npy --labels test_y.npy"})
public final class EvalCommand implements Callable<Integer> {

    @Option(names = "--backbone", required = true, paramLabel = "FILE", description = "the backbone checkpoint the "
            + "adapter was trained on")
    Path backbone;

    @Option(names = "--prompts", required = true, paramLabel = "ADAPTER", description = "adapter.safetensors from "
            + "sa2vp train")
    Path prompts;

    @Option(names = "--images", required = true, paramLabel = "X.npy", description = "float32 images [N, C, H, W]")
    Path images;

    @Option(names = "--labels", required = true, paramLabel = "Y.npy", description = "labels [N]")
    Path labels;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "64", description = "images per forward pass "
            + "(default: ${DEFAULT-VALUE})")
    int batchSize;

    @Override
    public Integer call() {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("--batch-size must be > 0, got " + batchSize);
        }
        TuningMethod config = TuningMethods.trainedBy(prompts);
        Backbone model = config.getBackbone();
        InMemoryImages data = NpyDataOptions.read(images, labels);
        long[] expected = {model.getInChannels(), model.getImageHeight(), model.getImageWidth()};
        if (!Arrays.equals(expected, data.imageShape())) {
            throw new IllegalArgumentException(images + ": images are " + Arrays.toString(data.imageShape())
                    + " (C, H, W), the adapter was trained on " + Arrays.toString(expected));
        }
        BackboneCheckpoint checkpoint = Backbones.read(backbone, CheckpointOptions.defaults()
                .withNumHeads(model.stages().get(0).numHeads()).withImageSize(model.getImageHeight()));
        Backbones.requireSameArchitecture(model, checkpoint.config(), backbone.toString());
        ComputationGraph graph = TuningMethods.newGraph(config);
        config.loadBackbone(graph, checkpoint);
        config.loadTrained(graph, prompts);
        EvaluationResult result = EvaluationResult.of(graph, config, data, null, batchSize);
        System.out.printf(Locale.ROOT, "accuracy %.4f (%d/%d)%nloss %.6f%n", result.accuracy(), result.correct(),
                result.count(), result.loss());
        return 0;
    }
}
