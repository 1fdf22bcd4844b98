package org.sa2vp.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sa2vp.backbone.weights.SafetensorsWriter;
import org.sa2vp.baseline.HeadTuningConfig;
import org.sa2vp.data.AugmentedImages;
import org.sa2vp.data.FashionMnist;
import org.sa2vp.data.InMemoryImages;
import org.sa2vp.train.AtomicFiles;
import org.sa2vp.train.EvaluationResult;
import org.sa2vp.train.Trainer;
import org.sa2vp.train.TrainingRecipe;
import org.sa2vp.zoo.FashionMnistBackbone;
import org.sa2vp.zoo.PretrainedTinySwin;
import org.sa2vp.zoo.PretrainedTinyVit;
import org.sa2vp.zoo.ZooBackbones;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code sa2vp pretrain}: trains one of the bundled backbones ({@link FashionMnistBackbone}, by default
 * {@link PretrainedTinyVit}) from scratch on Fashion-MNIST, the way its shipped weights were made, and writes them
 * as a timm-named {@code .safetensors} with their SHA-256.
 */
@Command(name = "pretrain", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains a bundled backbone (--model: the tiny ViT, 32x32 grey input, 4x4 patches, width 96, 6 "
                + "blocks, 3 heads; or the tiny Swin, 2x2 patches, 4x4 windows, stages of 2-2-6 blocks 32-64-128 "
                + "wide) from scratch with supervision on Fashion-MNIST (Debian package dataset-fashion-mnist), with "
                + "random shifts and flips, and reports its accuracy on the 10,000 test images.",
                "--out receives the training run (last.zip, metrics.csv, curves.png, state.json; Ctrl-C and "
                        + "--resume work as for 'sa2vp train'), MODEL.safetensors (the backbone + head under timm's "
                        + "names) and pretrain.json (accuracy, seconds, SHA-256). The defaults reproduce the weights "
                        + "bundled in sa2vp-zoo."},
        footer = {"", "Examples:", "  sa2vp pretrain --out runs/pretrain",
                "  sa2vp pretrain --model " + PretrainedTinySwin.NAME + " --out runs/pretrain-swin"})
public final class PretrainCommand implements Callable<Integer> {

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory")
    Path out;

    @Option(names = "--model", paramLabel = "NAME", description = "the bundled backbone to train: "
            + PretrainedTinyVit.NAME + " (default) or " + PretrainedTinySwin.NAME)
    String model = PretrainedTinyVit.NAME;

    @Option(names = "--data", paramLabel = "DIR", description = "Fashion-MNIST idx files (default "
            + "/usr/share/datasets/fashion-mnist)")
    Path dataDirectory = FashionMnist.DEFAULT_DIRECTORY;

    @Option(names = "--train-images", paramLabel = "N", description = "use the first N training images (default "
            + "all 60,000)")
    Integer trainImages;

    @Option(names = "--test-images", paramLabel = "N", description = "evaluate on the first N test images "
            + "(default all 10,000)")
    Integer testImages;

    @Option(names = "--resume", description = "continue the run in --out")
    boolean resume;

    @Mixin
    RecipeOptions recipeOptions;

    @Override
    public Integer call() {
        long start = System.nanoTime();
        FashionMnistBackbone<?> bundled = ZooBackbones.model(model);
        InMemoryImages fashionTrain = FashionMnist.load(dataDirectory, FashionMnist.Split.TRAIN);
        if (trainImages != null) {
            fashionTrain = fashionTrain.slice(0, Math.min(trainImages, fashionTrain.size()));
        }
        InMemoryImages fashionTest = FashionMnist.load(dataDirectory, FashionMnist.Split.TEST);
        if (testImages != null) {
            fashionTest = fashionTest.slice(0, Math.min(testImages, fashionTest.size()));
        }
        InMemoryImages train = fashionTrain.withImages(FashionMnistBackbone.fashionMnistInput(fashionTrain.images()));
        InMemoryImages test = fashionTest.withImages(FashionMnistBackbone.fashionMnistInput(fashionTest.images()));
        TrainingRecipe recipe = recipeOptions.apply(bundled.pretraining());
        AugmentedImages augmented = new AugmentedImages(train, FashionMnistBackbone.PRETRAINING_SHIFT,
                (0 - FashionMnistBackbone.MEAN) / FashionMnistBackbone.STD, true, recipe.getSeed());
        HeadTuningConfig method = HeadTuningConfig.fullFineTuning(bundled.classifier().headless(),
                FashionMnist.NUM_CLASSES);
        Trainer trainer;
        if (resume) {
            trainer = Trainer.resume(out, augmented, test);
        } else {
            ComputationGraph graph = Trainer.newGraph(method, recipe, train.size());
            trainer = Trainer.start(graph, method, recipe, augmented, test, out);
        }
        Trainer.Result result = TrainRuns.fitStoppable(trainer);
        if (result == null) {
            return 130;
        }
        if (!result.finished()) {
            System.out.printf("stopped after %d iterations; continue with the same command and --resume%n",
                    result.iterations());
            return 130;
        }
        ComputationGraph graph = trainer.graph();
        EvaluationResult evaluation = EvaluationResult.of(graph, method, test, null, 500);
        Path weights = out.resolve(bundled.name() + ".safetensors");
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("config", bundled.classifier().toJson());
        metadata.put("dataset", "Fashion-MNIST (MIT), " + train.size() + " training images");
        metadata.put("test_accuracy", String.format(Locale.ROOT, "%.4f", evaluation.accuracy()));
        metadata.put("recipe", recipe.toJson().replaceAll("\\s+", ""));
        AtomicFiles.write(weights, temp -> SafetensorsWriter.write(temp, bundled.export(graph).tensors(), metadata));
        String sha256 = FashionMnistBackbone.sha256(weights);
        double seconds = (System.nanoTime() - start) / 1e9;
        String summary = String.format(Locale.ROOT, "{\n  \"model\": \"%s\",\n  \"test_accuracy\": %.4f,\n  "
                        + "\"test_correct\": %d,\n  \"test_images\": %d,\n  \"train_images\": %d,\n  \"epochs\": %d,\n"
                        + "  \"seed\": %d,\n  \"seconds_this_invocation\": %.0f,\n  \"threads\": \"%s\",\n  \"sha256\": \"%s\","
                        + "\n  \"bytes\": %d\n}\n", bundled.name(), evaluation.accuracy(), evaluation.correct(),
                evaluation.count(), train.size(), recipe.getEpochs(), recipe.getSeed(), seconds,
                System.getenv().getOrDefault("OMP_NUM_THREADS", "default"), sha256, size(weights));
        AtomicFiles.writeString(out.resolve("pretrain.json"), summary);
        System.out.printf(Locale.ROOT, "test accuracy %.2f%% (%d/%d); weights %s (sha256 %s)%n",
                100 * evaluation.accuracy(), evaluation.correct(), evaluation.count(), weights, sha256);
        return 0;
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
