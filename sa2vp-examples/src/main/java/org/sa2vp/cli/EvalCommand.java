package org.sa2vp.cli;

import org.sa2vp.backbone.Backbone;
import org.sa2vp.data.ImageSources;
import org.sa2vp.data.InMemoryImages;
import org.sa2vp.data.LabelledImages;
import org.sa2vp.data.StreamedImages;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.train.EvaluationResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code sa2vp eval}: ND4J's evaluation and the loss of what any tuning method trained, on a labelled set. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Evaluates the adapter file that 'sa2vp train' writes (SA2VP's prompts and adapters, or what "
                + "any other method trained) on its frozen backbone, in inference mode: prints the top-1 accuracy "
                + "and the method's loss (SA2VP: λ·CE(image) + (1−λ)·CE(prompt)), then ND4J's evaluation "
                + "(accuracy, precision, recall, F1 per class, confusion matrix).",
                "The method and its configuration (rank, adapters, layers, classes, image size) come from the adapter "
                        + "file; the backbone must be the checkpoint it was trained on (the architecture is checked). "
                        + "Image files are preprocessed as training did (preprocessing.json next to the adapter; "
                        + "without it the vtab1k preset sized to the model); class names come from --class-names or "
                        + "classes.txt next to the adapter."},
        footer = {"", "Examples:", "  sa2vp eval --backbone zoo:vit_tiny_patch4_32_fashion --prompts runs/a/"
                + "adapter.safetensors --data my_images --split test --out runs/a/test",
                "  sa2vp eval --backbone imagenet21k_ViT-B_16.npz --prompts runs/cifar/adapter.safetensors --images "
                        + "test_x.npy --labels test_y.npy"})
public final class EvalCommand implements Callable<Integer> {

    @Option(names = "--backbone", required = true, paramLabel = "FILE|zoo:NAME", description = "the backbone "
            + "checkpoint the adapter was trained on, or zoo:NAME for a bundled one")
    String backbone;

    @Option(names = "--prompts", required = true, paramLabel = "ADAPTER", description = "adapter.safetensors from "
            + "sa2vp train")
    Path prompts;

    @Option(names = "--data", paramLabel = "DIR", description = "image dataset in any layout 'sa2vp train --data' "
            + "reads (instead of --images)")
    Path data;

    @Option(names = "--split", paramLabel = "SPLIT", description = "split of --data (default: test; all images of a "
            + "folder DIR/<class>/<image> without split folders)")
    String split;

    @Option(names = "--strict", description = "a corrupt image is an error (default: replaced by the next readable "
            + "one and counted)")
    boolean strict;

    @Option(names = "--images", paramLabel = "X.npy", description = "float32 images [N, C, H, W], already "
            + "preprocessed")
    Path images;

    @Option(names = "--labels", paramLabel = "Y.npy", description = "labels [N] of --images")
    Path labels;

    @Option(names = "--class-names", paramLabel = "FILE", description = "one class name per line, in label order "
            + "(default: classes.txt next to the adapter)")
    Path classNames;

    @Option(names = "--out", paramLabel = "DIR", description = "also write evaluation.txt, evaluation.json and "
            + "confusion.csv there")
    Path out;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "64", description = "images per forward pass "
            + "(default: ${DEFAULT-VALUE})")
    int batchSize;

    @Override
    public Integer call() {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("--batch-size must be > 0, got " + batchSize);
        }
        if ((data != null) == (images != null || labels != null)) {
            throw new IllegalArgumentException("give the evaluation data either as --data DIR (image files) or as "
                    + "--images X.npy --labels Y.npy, not " + (data != null ? "both" : "neither"));
        }
        if (data == null && (images == null || labels == null)) {
            throw new IllegalArgumentException("--images and --labels go together");
        }
        TuningMethod method = TrainedModel.configuration(prompts);
        Backbone model = method.getBackbone();
        List<String> recorded = ImageDatasets.classNames(null, prompts, method.getNumClasses());
        List<String> names = classNames != null ? ImageDatasets.classNames(classNames, prompts,
                method.getNumClasses()) : recorded;
        LabelledImages set = data != null ? openImages(method, recorded) : readNpy(model);
        if (names == null && set instanceof StreamedImages streamed
                && streamed.numClasses() == method.getNumClasses()) {
            names = streamed.classNames();
        }
        TrainedModel trained = TrainedModel.load(backbone, prompts, method);
        EvaluationResult result = EvaluationResult.of(trained.graph(), method, set, names, batchSize);
        System.out.printf(Locale.ROOT, "accuracy %.4f (%d/%d)%nloss %.6f%n", result.accuracy(), result.correct(),
                result.count(), result.loss());
        System.out.println(result.classification().stats());
        ImageDatasets.printSkipped(set);
        if (out != null) {
            ImageDatasets.createDirectories(out);
            result.write(out);
            System.out.println("wrote " + out.resolve(EvaluationResult.REPORT) + ", " + EvaluationResult.JSON + ", "
                    + EvaluationResult.CONFUSION);
        }
        return 0;
    }

    /**
     * The split of --data, preprocessed as the adapter's training was; its classes must be the adapter's (those in
     * classes.txt when the run recorded them).
     */
    private StreamedImages openImages(TuningMethod method, List<String> trainedNames) {
        ImageSources.Layout layout = ImageSources.layout(data);
        String chosen = split != null ? split : layout.test;
        StreamedImages set = ImageDatasets.open(data, chosen, ImageDatasets.preprocessingNextTo(prompts,
                method.getBackbone()), strict);
        if (set.numClasses() != method.getNumClasses()) {
            throw new IllegalArgumentException(data + " (" + ImageDatasets.describe(chosen) + ") has "
                    + set.numClasses() + " classes, the adapter was trained on " + method.getNumClasses());
        }
        if (trainedNames != null && !trainedNames.equals(set.classNames())) {
            throw new IllegalArgumentException(data + " (" + ImageDatasets.describe(chosen) + ") has the classes "
                    + set.classNames() + ", the adapter was trained on " + trainedNames);
        }
        return set;
    }

    private InMemoryImages readNpy(Backbone model) {
        InMemoryImages set = NpyDataOptions.read(images, labels);
        long[] expected = {model.getInChannels(), model.getImageHeight(), model.getImageWidth()};
        if (!Arrays.equals(expected, set.imageShape())) {
            throw new IllegalArgumentException(images + ": images are " + Arrays.toString(set.imageShape())
                    + " (C, H, W), the adapter was trained on " + Arrays.toString(expected));
        }
        return set;
    }
}
