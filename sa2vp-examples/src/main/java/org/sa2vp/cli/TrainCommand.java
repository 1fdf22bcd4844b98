package org.sa2vp.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.node.TextNode;
import org.sa2vp.backbone.Backbone;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.config.ConfigSupport;
import org.sa2vp.data.ImagePreprocessing;
import org.sa2vp.data.InMemoryImages;
import org.sa2vp.data.LabelledImages;
import org.sa2vp.data.StreamedImages;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.method.TuningMethods;
import org.sa2vp.model.Sa2vpMethods;
import org.sa2vp.train.Trainer;
import org.sa2vp.train.TrainingRecipe;
import org.sa2vp.train.TrainingState;
import org.sa2vp.zoo.ZooBackbones;
import org.sa2vp.zoo.benchmark.Benchmark;
import org.sa2vp.zoo.benchmark.BenchmarkData;
import org.sa2vp.zoo.benchmark.BenchmarkRecipes;
import org.sa2vp.zoo.benchmark.BenchmarkResult;
import org.sa2vp.zoo.benchmark.Benchmarks;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code sa2vp train}: prompt tuning of a frozen backbone checkpoint with the authors' recipe, by SA2VP or any
 * other registered tuning method.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains SA2VP prompts, adapters and a linear head on a frozen ViT backbone with the authors' "
                + "recipe (AdamW, warm-up + cosine learning rate per iteration, decoupled weight decay on weights only,"
                + " batches with the last partial one dropped, evaluation every epoch). Defaults are the paper's "
                + "scripts and the authors' model settings.",
                "The data is either image files (--data DIR: the layout is detected, the splits default per layout "
                        + "and are printed on start, images are decoded batch by batch with the --preprocessing "
                        + "preset sized to the backbone's input) or pre-normalised float32 .npy arrays (--train, "
                        + "--train-labels, --val, --val-labels).",
                "--out receives last.zip / best.zip (full networks with optimizer state), state.json, metrics.csv, "
                        + "curves.png, evaluation.txt / .json and confusion.csv (ND4J's evaluation of the best "
                        + "epoch, when validating), adapter.safetensors (the best epoch's trainable tensors under the "
                        + "authors' names, a few MB; use it with 'sa2vp eval' and 'sa2vp predict') and, for image "
                        + "files, "
                        + "preprocessing.json and classes.txt, which eval and predict read next to the adapter. "
                        + "Ctrl-C stops after the current iteration and writes a checkpoint; rerun the same command "
                        + "with --resume to continue exactly where it stopped. A loss that becomes NaN or infinite "
                        + "stops the run with exit code 2, the last good checkpoint kept."},
        footer = {"", "Examples:", "  sa2vp train --backbone zoo:vit_tiny_patch4_32_fashion --data my_images "
                + "--out runs/mine --epochs 10",
                "  sa2vp train --backbone imagenet21k_ViT-B_16.npz --data vtab-1k/cifar --out runs/cifar "
                        + "--train-split train800 --val-split val200",
                "  sa2vp train --backbone imagenet21k_ViT-B_16.npz --train x.npy --train-labels y.npy --val vx.npy "
                        + "--val-labels vy.npy --out runs/cifar --rank 8 --gamma 0.1"})
public final class TrainCommand implements Callable<Integer> {

    @Option(names = "--backbone", paramLabel = "FILE|zoo:NAME", description = "ViT checkpoint (Google .npz, timm / "
            + "Hugging Face / torchvision .safetensors, .npz or torch.save .pth, ONNX, Keras .h5), or a bundled "
            + "backbone, e.g. zoo:vit_tiny_patch4_32_fashion, or a Swin checkpoint (timm / Microsoft / torchvision / "
            + "Hugging Face names; --method sa2vp builds SA2VP-Swin); not read on --resume (last.zip holds it)")
    String backbone;

    @Option(names = "--heads", paramLabel = "N", description = "attention heads, when the checkpoint does not store "
            + "them")
    Integer heads;

    @Option(names = "--image-size", paramLabel = "S", description = "model image size (default: the .npy "
            + "images', or the checkpoint's for --data); the position embedding is resized when it differs from the "
            + "checkpoint's")
    Integer imageSize;

    @Option(names = "--benchmark", paramLabel = "ID", description = "a registered benchmark ('sa2vp benchmarks' "
            + "lists them, e.g. vtab-1k/dsprites-location or minivtab/digit_location) in --data: its split files, "
            + "class count, preprocessing, the authors' settings for it and its recipe; options given on top change "
            + "them. Every epoch is evaluated; --out receives " + BenchmarkResult.FILE + " with the best-epoch "
            + "accuracy (the paper's protocol), the last epoch's and the published number, for 'sa2vp table'")
    String benchmarkId;

    @Option(names = "--split-mode", paramLabel = "MODE", description = "with --benchmark: trainval-test (default; "
            + "the reported numbers: VTAB-1k train800val200 -> test, FGVC train -> test) or train-val (choosing "
            + "settings: train800 -> val200, FGVC train -> val)")
    String splitMode;

    @Mixin
    ImageDataOptions images;

    @Mixin
    NpyDataOptions npy;

    @Option(names = "--classes", paramLabel = "C", description = "number of classes (default: largest label + 1)")
    Integer classes;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory")
    Path out;

    @Option(names = "--resume", description = "continue the run in --out (same data; options may be repeated, "
            + "not changed)")
    boolean resume;

    @Option(names = "--checkpoint-every", paramLabel = "N", defaultValue = "0", description = "also write last.zip "
            + "every N iterations within an epoch (default: only after each epoch)")
    int checkpointEvery;

    @Option(names = "--method", paramLabel = "METHOD", defaultValue = "sa2vp", description = "what to train: any "
            + "registered tuning method; sa2vp (default), or a baseline: linear-probe, vpt-shallow, vpt-deep, "
            + "full-finetune")
    String method;

    @Option(names = "--prompt-tokens", paramLabel = "P", description = "VPT prompt tokens per set (default 10)")
    Integer promptTokens;

    @Option(names = "--set", paramLabel = "SETTING=VALUE", description = "a setting of the method's configuration by "
            + "its JSON name, for any method, e.g. --set numPromptTokens=50 or --set imageToPromptLayers=[0,6] "
            + "(repeatable; the value is JSON, or else text)")
    List<String> settings = new ArrayList<>();

    @Mixin
    RecipeOptions recipeOptions;

    @Mixin
    Sa2vpOptions sa2vp;

    @Override
    public Integer call() {
        if (npy.given() == images.given()) {
            throw new IllegalArgumentException("give the training data either as --data DIR (image files) or as "
                    + "--train X.npy --train-labels Y.npy, not " + (npy.given() ? "both" : "neither"));
        }
        benchmark = resolveBenchmark();
        TrainingData data = images.given() ? (resume ? resumeImages() : startImages()) : npyData();
        Trainer trainer = resume ? resumeRun(data) : startRun(data);
        if (data.classNames() != null) {
            trainer.classNames(data.classNames());
        }
        if (!resume && data.preprocessing() != null) {
            ImageDatasets.writeRunFiles(out, data.preprocessing(), data.classNames());
        }
        trainer.checkpointEvery(checkpointEvery);
        Trainer.Result result = TrainRuns.fitStoppable(trainer);
        if (result == null) {
            return 130;
        }
        printSummary(result, data.validation() != null);
        printSkipped(data);
        if (result.finished() && benchmark != null) {
            BenchmarkResult outcome = BenchmarkResult.of(benchmark, BenchmarkRecipes.method(benchmark,
                            trainer.config().methodName(), trainer.config().getBackbone()), trainer.config(),
                    splitMode(), trainer.recipe().getSeed(), trainer.history());
            outcome.write(out);
            System.out.println(outcome.paperLine());
        }
        return result.finished() ? 0 : 130;
    }

    /**
     * What a run trains on.
     *
     * @param imageShape    {@code [C, H, W]} of the images, or null when the backbone decides it (image files)
     * @param classNames    names in label order, or null (class indices)
     * @param preprocessing how image files become inputs, or null for {@code .npy} arrays (already inputs)
     * @param checkpoint    the backbone, when reading it was needed to size the images (else null: read later)
     */
    private record TrainingData(LabelledImages train, LabelledImages validation, long[] imageShape,
                                List<String> classNames, ImagePreprocessing preprocessing,
                                BackboneCheckpoint checkpoint) {
    }

    private TrainingData npyData() {
        InMemoryImages train = npy.train();
        InMemoryImages validation = npy.validation();
        long[] shape = train.imageShape();
        if (validation != null && !Arrays.equals(shape, validation.imageShape())) {
            throw new IllegalArgumentException("validation images are " + Arrays.toString(validation.imageShape())
                    + ", training images " + Arrays.toString(shape));
        }
        return new TrainingData(train, validation, shape, null, null, null);
    }

    /**
     * The registered benchmark of {@code --benchmark}, or null; its options are checked against the others first.
     */
    private Benchmark resolveBenchmark() {
        if (benchmarkId == null) {
            if (splitMode != null) {
                throw new IllegalArgumentException("--split-mode chooses a benchmark's splits: give --benchmark ID "
                        + "too, or choose splits with --train-split and --val-split");
            }
            return null;
        }
        Benchmark benchmark = Benchmarks.get(benchmarkId);
        if (!images.given()) {
            throw new IllegalArgumentException("--benchmark " + benchmarkId + " reads the benchmark's image files: "
                    + "give its folder as --data DIR");
        }
        if (images.trainSplit != null || images.valSplit != null) {
            throw new IllegalArgumentException("--benchmark " + benchmarkId + " takes its splits from --split-mode "
                    + "(train-val or trainval-test), not --train-split / --val-split");
        }
        if (images.preset != null && !images.preset.equals(benchmark.preprocessing())) {
            throw new IllegalArgumentException("--benchmark " + benchmarkId + " preprocesses as '"
                    + benchmark.preprocessing() + "'; --preprocessing " + images.preset + " would change it");
        }
        return benchmark;
    }

    /** The registered benchmark of this run, or null ({@link #resolveBenchmark}). */
    private Benchmark benchmark;

    /** The split mode of a benchmark run (default: the reported numbers' trainval-test). */
    private BenchmarkData.SplitMode splitMode() {
        return splitMode == null ? BenchmarkData.SplitMode.TRAINVAL_TEST : BenchmarkData.splitMode(splitMode);
    }

    /**
     * Image files of a new run: the preprocessing is the preset (the benchmark's, else --preprocessing) sized to the
     * backbone, which is read first.
     */
    private TrainingData startImages() {
        BackboneCheckpoint checkpoint = readBackbone(imageSize);
        Backbone model = checkpoint.config().headless();
        ImagePreprocessing preprocessing = benchmark != null ? BenchmarkData.preprocessing(benchmark,
                model.getInChannels(), model.getImageHeight(), model.getImageWidth())
                : images.preprocessing(model.getInChannels(), model.getImageHeight(), model.getImageWidth());
        return openImages(preprocessing, checkpoint);
    }

    /** Image files of a resumed run, preprocessed as its preprocessing.json says. */
    private TrainingData resumeImages() {
        Path file = out.resolve(ImageDatasets.PREPROCESSING);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(out + " holds no " + ImageDatasets.PREPROCESSING + " (a run on image "
                    + "files writes it); resume a run of .npy arrays with --train/--train-labels");
        }
        ImagePreprocessing stored = ImagePreprocessing.read(file);
        if (images.preset != null && !images.preprocessing(stored.getChannels(), stored.outputHeight(),
                stored.outputWidth()).toJson().equals(stored.toJson())) {
            throw new IllegalArgumentException("--resume continues the run in " + out + " with its " + file
                    + "; --preprocessing " + images.preset + " would change it");
        }
        return openImages(stored, null);
    }

    private TrainingData openImages(ImagePreprocessing preprocessing, BackboneCheckpoint checkpoint) {
        if (benchmark != null) {
            BenchmarkData.SplitMode mode = splitMode();
            BenchmarkData.Splits splits = BenchmarkData.open(benchmark, images.directory, mode, preprocessing,
                    images.strict);
            System.err.printf(Locale.ROOT, "benchmark %s (%s) in %s, %s: training on %s (%d images), evaluating "
                            + "every epoch on %s (%d images); %d classes; %s%n", benchmark.id(), benchmark.name(),
                    images.directory, mode.optionName(),
                    mode.trainSplit(benchmark.layout()), splits.train().size(),
                    mode.evaluationSplit(benchmark.layout()), splits.evaluation().size(),
                    benchmark.classes(), describe(preprocessing));
            return new TrainingData(splits.train(), splits.evaluation(), null, splits.classNames(),
                    preprocessing, checkpoint);
        }
        ImageDataOptions.Splits splits = images.splits();
        StreamedImages train = images.open(splits.train(), preprocessing);
        StreamedImages validation = splits.validation() == null ? null : images.open(splits.validation(),
                preprocessing);
        if (validation != null && !validation.classNames().equals(train.classNames())) {
            throw new IllegalArgumentException("validation split " + splits.validation() + " has the classes "
                    + validation.classNames() + ", training split " + ImageDatasets.describe(splits.train())
                    + " has " + train.classNames() + "; both need the same classes");
        }
        System.err.println(splits.describe(images.directory) + String.format(Locale.ROOT, " (%d images, %d classes;"
                + " %s%s)", train.size(), train.numClasses(), validation == null ? "" : validation.size()
                + " validation images; ", describe(preprocessing)));
        return new TrainingData(train, validation, null, train.classNames(), preprocessing, checkpoint);
    }

    /** "vtab1k-style 32×32×1" in a few words. */
    private static String describe(ImagePreprocessing p) {
        return String.format(Locale.ROOT, "images resized (%s) to %d×%d, %d channel%s", p.getResize()
                .name().toLowerCase(Locale.ROOT), p.outputHeight(), p.outputWidth(), p.getChannels(),
                p.getChannels() == 1 ? "" : "s");
    }

    /** The backbone checkpoint or bundled backbone of --backbone, at {@code size} (null: its own). */
    private BackboneCheckpoint readBackbone(Integer size) {
        if (backbone == null) {
            throw new IllegalArgumentException("--backbone is required (except with --resume)");
        }
        return ZooBackbones.read(backbone, CheckpointOptions.defaults().withNumHeads(heads).withImageSize(size));
    }

    private Trainer startRun(TrainingData data) {
        long[] shape = data.imageShape();
        BackboneCheckpoint checkpoint = data.checkpoint() != null ? data.checkpoint()
                : readBackbone(imageSize != null ? imageSize : (int) shape[1]);
        Backbone model = checkpoint.config().headless();
        if (shape != null && (shape[0] != model.getInChannels() || shape[1] != model.getImageHeight()
                || shape[2] != model.getImageWidth())) {
            throw new IllegalArgumentException(npy.trainImages + ": images are " + Arrays.toString(shape)
                    + " (C, H, W), the model expects [" + model.getInChannels() + ", " + model.getImageHeight() + ", "
                    + model.getImageWidth() + "]");
        }
        int numClasses;
        if (data.classNames() != null) {
            numClasses = data.classNames().size();
            if (classes != null && classes != numClasses) {
                throw new IllegalArgumentException("--classes " + classes + ", but " + images.directory + " has "
                        + numClasses + " classes " + data.classNames());
            }
        } else {
            numClasses = classes != null ? classes : Math.max(maxLabel(data.train()), data.validation() == null ? -1
                    : maxLabel(data.validation())) + 1;
        }
        TuningMethod config = applyMethodOptions(benchmark != null ? BenchmarkRecipes.method(benchmark, method, model)
                : TuningMethods.create(method, model, numClasses));
        TrainingRecipe recipe = applyRecipeOptions(benchmark != null ? BenchmarkRecipes.recipe(benchmark)
                : TrainingRecipe.paper()).validated();
        ComputationGraph graph = Trainer.newGraph(config, recipe, data.train().size());
        config.loadBackbone(graph, checkpoint);
        return Trainer.start(graph, config, recipe, data.train(), data.validation(), out);
    }

    /** The count of corrupt images replaced, when any. */
    private static void printSkipped(TrainingData data) {
        ImageDatasets.printSkipped(data.train(), data.validation());
    }

    private Trainer resumeRun(TrainingData data) {
        TrainingState state = TrainingState.read(out.resolve(Trainer.STATE));
        List<String> changed = new ArrayList<>();
        TuningMethod stored = state.getConfig();
        changed.addAll(differences(stored.toJson(), applyMethodOptions(stored).toJson()));
        changed.addAll(differences(state.getRecipe().toJson(), applyRecipeOptions(state.getRecipe()).toJson()));
        if (!changed.isEmpty()) {
            throw new IllegalArgumentException("--resume continues the run in " + out + " as it was started; the "
                    + "options change " + String.join(", ", changed));
        }
        return Trainer.resume(out, data.train(), data.validation());
    }

    /**
     * {@code base} with the method options given: --classes, the SA2VP options, --prompt-tokens and every --set,
     * as settings of the method's configuration ({@link TuningMethods#withSettings}); an option the method has no
     * setting for is an error naming the option.
     */
    private TuningMethod applyMethodOptions(TuningMethod base) {
        List<String> names = TuningMethods.settingNames(base);
        Map<String, Object> sa2vpSettings = sa2vp.settings();
        if (base.methodName().equals(Sa2vpMethods.SA2VP)) {
            Sa2vpOptions.requireSettingsOf(base, sa2vpSettings.keySet());
        } else if (!names.containsAll(sa2vpSettings.keySet())) {
            throw new IllegalArgumentException("SA2VP options (--rank, --gamma, ...) apply to --method sa2vp only, "
                    + "not " + base.methodName());
        }
        Map<String, Object> all = new LinkedHashMap<>();
        if (classes != null) {
            all.put("numClasses", classes);
        }
        all.putAll(sa2vpSettings);
        if (promptTokens != null) {
            if (!names.contains("numPromptTokens")) {
                throw new IllegalArgumentException("--prompt-tokens sets numPromptTokens, a setting of VPT, not of "
                        + "--method " + base.methodName());
            }
            all.put("numPromptTokens", promptTokens);
        }
        for (String setting : settings) {
            int eq = setting.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--set takes SETTING=VALUE, got '" + setting + "'");
            }
            all.put(setting.substring(0, eq).strip(), jsonValue(setting.substring(eq + 1).strip()));
        }
        return TuningMethods.withSettings(base, all).validated();
    }

    /** A --set value: JSON when it parses as JSON (numbers, true, [0,4]), else the text itself. */
    private static JsonNode jsonValue(String text) {
        try {
            return ConfigSupport.mapper().readTree(text);
        } catch (IOException e) {
            return TextNode.valueOf(text);
        }
    }

    private TrainingRecipe applyRecipeOptions(TrainingRecipe base) {
        return recipeOptions.apply(base);
    }

    private static int maxLabel(LabelledImages images) {
        return Arrays.stream(images.labels()).max().orElse(-1);
    }

    /** Top-level JSON fields whose values differ, as "field a → b". */
    private static List<String> differences(String stored, String requested) {
        return ConfigSupport.changedFields(stored, requested).stream()
                .map(c -> c.field() + " " + c.from() + " → " + c.to()).toList();
    }

    /** The final lines on stdout. */
    private void printSummary(Trainer.Result result, boolean validated) {
        if (!result.finished()) {
            System.out.printf("stopped after %d iterations (%d epochs); continue with the same command and --resume%n",
                    result.iterations(), result.epochs());
            return;
        }
        if (validated) {
            System.out.printf(Locale.ROOT, "finished %d epochs: best validation accuracy %.2f%% at epoch %d%n",
                    result.epochs(), 100 * result.bestAccuracy(), result.bestEpoch());
        } else {
            System.out.printf("finished %d epochs%n", result.epochs());
        }
        System.out.println("adapter: " + out.resolve(Trainer.ADAPTER));
    }
}
