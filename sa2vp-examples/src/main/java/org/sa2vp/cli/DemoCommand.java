package org.sa2vp.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.baseline.HeadTuningConfig;
import org.sa2vp.data.Fingerprints;
import org.sa2vp.data.ImageFolder;
import org.sa2vp.data.InMemoryImages;
import org.sa2vp.data.StratifiedSplit;
import org.sa2vp.data.VtabSplit;
import org.sa2vp.data.VtabTask;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.model.PromptSimilarity;
import org.sa2vp.model.Sa2vpConfig;
import org.sa2vp.model.Sa2vpMethods;
import org.sa2vp.train.AtomicFiles;
import org.sa2vp.train.EvaluationResult;
import org.sa2vp.train.ProgressBar;
import org.sa2vp.train.Trainer;
import org.sa2vp.train.TrainingRecipe;
import org.sa2vp.zoo.PretrainedTinyVit;
import org.sa2vp.zoo.minivtab.MiniVtab;
import org.sa2vp.zoo.minivtab.MiniVtabBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code sa2vp demo}: SA2VP against the linear probe on one small task, from the bundled backbone, offline, in a
 * few minutes; the README's first command.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Prompt-tunes SA2VP on the bundled tiny ViT (pretrained on Fashion-MNIST) for a mini-VTAB task "
                + "(default " + DemoCommand.DEFAULT_TASK + ": which cell of a 3x3 grid holds a handwritten digit) or "
                + "a folder of your images, trains the linear-probe baseline on the same data, and prints both test "
                + "accuracies. Offline; a few minutes on 2 cores.",
                "--out receives one folder per data set and settings, named after the data and a digest of the "
                        + "images, labels, epochs and seed (e.g. digit_location-3f9a0c1b2d4e/), holding sa2vp/ and "
                        + "linear-probe/ (each a training run: metrics.csv, curves.png, trained tensors); and "
                        + "curves.png (SA2VP's training curves) and similarity.png (the paper's Figure 5: cosine "
                        + "similarity between an image token and every prompt token) of the latest demo. Rerunning "
                        + "with the same data and settings continues or reuses the finished runs; other data or "
                        + "settings start new ones."},
        footer = {"", "Examples:", "  sa2vp demo", "  sa2vp demo --task digit_count --epochs 10",
                "  sa2vp demo --data my_images/   (one sub-folder per class; images are made grey 32x32)"})
public final class DemoCommand implements Callable<Integer> {

    /** The two methods the demo compares, by their registered names. */
    private static final String SA2VP = Sa2vpMethods.SA2VP;
    private static final String LINEAR_PROBE = HeadTuningConfig.LINEAR_PROBE;

    static final String DEFAULT_TASK = "digit_location";
    static final int DEFAULT_EPOCHS = 5;
    /** Test images shown in the similarity figure. */
    private static final int FIGURE_IMAGES = 4;

    @Option(names = "--data", paramLabel = "DIR", description = "your images instead of a mini-VTAB task: one "
            + "sub-folder per class (PNG, JPEG, BMP, GIF), split 70/15/15 per class into train/validation/test")
    Path data;

    @Option(names = "--task", paramLabel = "TASK", defaultValue = DEFAULT_TASK, description = "mini-VTAB task "
            + "(default ${DEFAULT-VALUE}): twemoji_category, optdigits_digit, texture_patch, digit_count, "
            + "digit_location, digit_orientation")
    String task;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "runs/demo", description = "output directory "
            + "(default ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "" + DEFAULT_EPOCHS, description = "epochs of each "
            + "method (default ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42", description = "seed (default ${DEFAULT-VALUE})")
    long seed;

    /** A finished training and its test evaluation (null when it was stopped). */
    private record Trained(String method, TuningMethod config, ComputationGraph graph, EvaluationResult evaluation) {
    }

    /** Train, validation and test images as pixels in [0, 1]; the networks see them normalised. */
    private record Splits(String name, InMemoryImages train, InMemoryImages validation, InMemoryImages test) {
    }

    @Override
    public Integer call() {
        if (epochs < 1) {
            throw new IllegalArgumentException("--epochs must be >= 1, got " + epochs);
        }
        long start = System.nanoTime();
        Splits splits = data != null ? folderSplits() : taskSplits();
        System.out.printf(Locale.ROOT, "%s: %d classes; %d training, %d validation, %d test images%n",
                splits.name(), splits.train().numClasses(), splits.train().size(), splits.validation().size(),
                splits.test().size());
        VitCheckpoint backbone = PretrainedTinyVit.backbone();
        int classes = splits.train().numClasses();
        Path runFolder = out.resolve(runName(splits));
        // SA2VP shows its progress; the linear probe trains beside it, quietly, on the other core.
        List<Callable<Trained>> jobs = new ArrayList<>();
        StringBuilder sizes = new StringBuilder();
        for (String method : List.of(SA2VP, LINEAR_PROBE)) {
            TuningMethod config = MiniVtabBenchmark.method(method, backbone.config(), classes);
            sizes.append(String.format(Locale.ROOT, "%s%s (%,d trainable values)", sizes.length() == 0 ? "" : " and ",
                    method, config.trainableParameters()));
            ProgressBar progress = method.equals(SA2VP) ? ProgressBar.console()
                    : new ProgressBar(new PrintStream(OutputStream.nullOutputStream()), false);
            jobs.add(() -> {
                Trainer trainer = trainer(runFolder.resolve(method), method, config, backbone,
                        normalised(splits.train()), normalised(splits.validation())).progress(progress);
                Trainer.Result result = TrainRuns.fitStoppable(trainer);
                boolean finished = result != null && result.finished();
                return new Trained(method, config, trainer.graph(), finished ? EvaluationResult.of(trainer.graph(), config,
                        normalised(splits.test()), null, 250) : null);
            });
        }
        System.out.printf(Locale.ROOT, "training %s side by side for %d epochs; SA2VP's progress:%n", sizes, epochs);
        Map<String, Trained> runs = new LinkedHashMap<>();
        for (Trained t : ParallelRuns.run(jobs, 2)) {
            if (t.evaluation() == null) {
                System.out.println("stopped; rerun the same command to continue");
                return 130;
            }
            runs.put(t.method(), t);
        }
        Path curves = out.resolve("curves.png");
        AtomicFiles.copy(runFolder.resolve(SA2VP).resolve(Trainer.CURVES), curves);
        Path figure = out.resolve("similarity.png");
        Trained sa2vp = runs.get(SA2VP);
        writeSimilarityFigure(figure, sa2vp.graph(), (Sa2vpConfig) sa2vp.config(), splits.test());

        System.out.printf(Locale.ROOT, "%n%s, test accuracy on %d images (%d epochs each):%n", splits.name(),
                splits.test().size(), epochs);
        for (Trained t : runs.values()) {
            System.out.printf(Locale.ROOT, "  %-13s %6.2f%%  (%,d trainable values)%n", t.method(),
                    100 * t.evaluation().accuracy(), t.config().trainableParameters());
        }
        System.out.printf(Locale.ROOT, "wrote %s and %s; runs in %s (%.0f s)%n", curves, figure, runFolder,
                (System.nanoTime() - start) / 1e9);
        return 0;
    }

    private Splits taskSplits() {
        MiniVtab.Task chosen = MiniVtab.Task.fromFolderName(task);
        Path dataRoot = out.resolve("data");
        Path folder = dataRoot.resolve(chosen.folderName());
        if (!Files.exists(folder.resolve("test.txt"))) {
            MiniVtab.generate(dataRoot, MiniVtab.DEFAULT_SEED, chosen);
        }
        VtabTask vtab = VtabTask.open(folder);
        int channels = PretrainedTinyVit.CONFIG.getInChannels(), size = PretrainedTinyVit.IMAGE_SIZE;
        return new Splits("mini-VTAB " + chosen.folderName(), vtab.split(VtabSplit.TRAIN800, channels, size),
                vtab.split(VtabSplit.VAL200, channels, size), vtab.split(VtabSplit.TEST, channels, size));
    }

    private Splits folderSplits() {
        ImageFolder folder = ImageFolder.read(data, PretrainedTinyVit.CONFIG.getInChannels(),
                PretrainedTinyVit.IMAGE_SIZE);
        StratifiedSplit split = StratifiedSplit.of(folder.images(), 0.7, 0.15, seed);
        if (split.train().size() == 0 || split.validation().size() == 0 || split.test().size() == 0) {
            throw new IllegalArgumentException(data + ": too few images for a 70/15/15 train/validation/test split ("
                    + folder.images().size() + " in " + folder.classNames().size() + " classes)");
        }
        return new Splits(data + " " + folder.classNames(), split.train(), split.validation(), split.test());
    }

    /**
     * The folder of this demo's runs: the data's name and a digest of what decides the results (the training and
     * validation images and labels, the epochs, the seed), so finished runs are reused exactly when they answer
     * the same question and other data never meets a run it did not start.
     */
    private String runName(Splits splits) {
        java.security.MessageDigest digest = Fingerprints.sha256();
        Fingerprints.update(digest, splits.train().fingerprint() + " " + splits.validation().fingerprint()
                + " epochs " + epochs + " seed " + seed);
        String name = data != null ? String.valueOf(data.toAbsolutePath().normalize().getFileName()) : task;
        return name.replaceAll("[^A-Za-z0-9._-]", "_") + "-" + Fingerprints.hex(digest).substring(0, 12);
    }

    private Trainer trainer(Path directory, String method, TuningMethod config, VitCheckpoint backbone,
                            InMemoryImages train, InMemoryImages validation) {
        if (Files.exists(directory.resolve(Trainer.STATE))) {
            return Trainer.resume(directory, train, validation);
        }
        TrainingRecipe recipe = MiniVtabBenchmark.recipe(method, seed, epochs)
                .withBatchSize(Math.min(MiniVtabBenchmark.BATCH_SIZE, train.size()));
        ComputationGraph graph = Trainer.newGraph(config, recipe, train.size());
        config.loadBackbone(graph, backbone);
        return Trainer.start(graph, config, recipe, train, validation, directory);
    }

    private void writeSimilarityFigure(Path file, ComputationGraph graph, Sa2vpConfig config, InMemoryImages test) {
        int n = Math.min(FIGURE_IMAGES, test.size());
        InMemoryImages shown = test.slice(0, n);
        INDArray pixels = shown.images();
        int[] queries = PromptSimilarity.salientPatches(pixels, config.getBackbone().getPatchSize());
        int lastLayer = config.getBackbone().getDepth() - 1;
        PromptSimilarity.Map2d[] maps = PromptSimilarity.compute(graph, config, PretrainedTinyVit.normalize(pixels),
                lastLayer, queries);
        SimilarityFigure.write(file, pixels, maps, "SA2VP: cosine similarity of an image token with every prompt "
                + "token after layer " + lastLayer);
    }

    private static InMemoryImages normalised(InMemoryImages pixels) {
        return pixels.withImages(PretrainedTinyVit.normalize(pixels.images()));
    }
}
