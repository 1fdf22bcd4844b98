package org.sa2vp.cli;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.sa2vp.data.ImagePreprocessing;
import org.sa2vp.data.ImageSources;
import org.sa2vp.method.TuningMethod;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code sa2vp predict}: top-k classes of image files with what any tuning method trained. */
@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Classifies image files (PNG, JPEG, BMP, GIF, ...) with the adapter file that 'sa2vp train' "
                + "writes, of any method, on its frozen backbone. Each image is preprocessed as training did "
                + "(preprocessing.json next to the adapter; without it the authors' vtab1k preset sized to the "
                + "model: stretched, scaled to [0, 1], normalised with mean 0.5 and std 0.5 per channel). Prints the "
                + "top-k classes of the predicted logits with their probabilities.",
                "Images are decoded a batch at a time; an unreadable one stops the command with one line naming it "
                        + "(exit code 2) before any result of its batch is printed."},
        footer = {"", "Example:", "  sa2vp predict --backbone zoo:vit_tiny_patch4_32_fashion --prompts runs/a/"
                + "adapter.safetensors cat.png dog.jpg", "  sa2vp predict --backbone vit.npz --prompts run/adapter.safetensors --data "
                + "unlabelled/"})
public final class PredictCommand implements Callable<Integer> {

    @Option(names = "--backbone", required = true, paramLabel = "FILE|zoo:NAME", description = "the backbone "
            + "checkpoint the adapter was trained on, or zoo:NAME for a bundled one")
    String backbone;

    @Option(names = "--prompts", required = true, paramLabel = "ADAPTER", description = "adapter.safetensors from "
            + "sa2vp train")
    Path prompts;

    @Option(names = "--class-names", paramLabel = "FILE", description = "one class name per line, in label order "
            + "(default: classes.txt next to the adapter, else class indices)")
    Path classNames;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "5", description = "classes to print (default "
            + "${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "32", description = "images per forward pass "
            + "(default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--data", paramLabel = "DIR", description = "also every image file below DIR, at any depth, in "
            + "path order (a folder of unlabelled images, or a dataset split's folder)")
    Path data;

    @Parameters(paramLabel = "IMAGE", arity = "0..*", description = "image files")
    List<Path> images = new ArrayList<>();

    @Override
    public Integer call() {
        if (topK <= 0 || batchSize <= 0) {
            throw new IllegalArgumentException("--top-k and --batch-size must be > 0, got " + topK + " and "
                    + batchSize);
        }
        List<Path> images = new ArrayList<>(this.images);
        if (data != null) {
            images.addAll(ImageSources.imagesBelow(data));
        }
        if (images.isEmpty()) {
            throw new IllegalArgumentException(data == null ? "no image to classify: give image files or --data DIR"
                    : data + " holds no image file ("
                            + String.join(", ", new java.util.TreeSet<>(ImageSources.IMAGE_EXTENSIONS)) + ")");
        }
        TuningMethod method = TrainedModel.configuration(prompts);
        List<String> names = ImageDatasets.classNames(classNames, prompts, method.getNumClasses());
        ImagePreprocessing preprocessing = ImageDatasets.preprocessingNextTo(prompts, method.getBackbone());
        TrainedModel trained = TrainedModel.load(backbone, prompts, method);
        DataType dataType = trained.graph().getConfiguration().getDefaultConfiguration().getDataType();
        for (int from = 0; from < images.size(); from += batchSize) {
            int to = Math.min(images.size(), from + batchSize);
            // Decoded a batch at a time (memory: one batch), all of it before any of it is printed.
            List<INDArray> inputs = new ArrayList<>();
            for (Path image : images.subList(from, to)) {
                inputs.add(preprocessing.load(image));
            }
            // [n, C, H, W] → logits [n, classes] of the method's prediction vertex
            INDArray batch = Nd4j.concat(0, inputs.toArray(INDArray[]::new)).castTo(dataType);
            INDArray logits = trained.graph().output(List.of(method.logitVertices().get(0)), false,
                    new INDArray[]{batch}, null)[0];
            double[][] probabilities = Transforms.softmax(logits.castTo(DataType.DOUBLE), true).toDoubleMatrix();
            for (int i = from; i < to; i++) {
                print(images.get(i), probabilities[i - from], names);
            }
        }
        return 0;
    }

    /** The file, then its top-k classes with their probabilities. */
    private void print(Path image, double[] probabilities, List<String> names) {
        System.out.println(image);
        List<Integer> order = new ArrayList<>();
        for (int c = 0; c < probabilities.length; c++) {
            order.add(c);
        }
        order.sort((a, b) -> Double.compare(probabilities[b], probabilities[a]));
        for (int k = 0; k < Math.min(topK, order.size()); k++) {
            int c = order.get(k);
            System.out.printf(Locale.ROOT, "  %6.2f%%  %s%n", 100 * probabilities[c],
                    names == null ? "class " + c : names.get(c));
        }
    }
}
