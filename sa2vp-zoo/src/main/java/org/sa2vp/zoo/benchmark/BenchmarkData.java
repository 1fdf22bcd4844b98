package org.sa2vp.zoo.benchmark;

import org.sa2vp.data.ImagePreprocessing;
import org.sa2vp.data.ImageSources;
import org.sa2vp.data.LabelledImages;
import org.sa2vp.data.PixelArrayImages;
import org.sa2vp.data.StreamedImages;
import org.sa2vp.data.TorchvisionArchives;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A registered benchmark's data on disk, read the way the authors' code reads it: the split pair of a
 * {@link SplitMode}, the benchmark's preprocessing preset sized to the model input, streamed batch by batch
 * ({@link StreamedImages}; CIFAR and SVHN, which come as pixel arrays, from memory: {@link PixelArrayImages}).
 * Everything that needs no pixels is checked before any image is decoded, in one line: the
 * directory's layout against the benchmark's, the splits' class count against the registered one.
 *
 * <p>FGVC labels: the authors subtract 1 from the JSON's class ids (1..K), except for NABirds, whose ids they use
 * as they are; {@link ImageSources#fgvc} maps the sorted distinct ids to 0..K−1, which is both of these whenever the
 * ids are contiguous, as they are in VPT's split files.
 */
public final class BenchmarkData {

    /** The paper's two protocols; the authors' third mode, which evaluates on training images, has no value here. */
    public enum SplitMode {
        /** Choosing hyper-parameters: VTAB-1k train800 → val200, FGVC train.json → val.json. */
        TRAIN_VAL,
        /** The reported numbers: VTAB-1k train800val200 → test, FGVC train.json (not train+val) → test.json. */
        TRAINVAL_TEST;

        /** The name on the command line: {@code train-val}, {@code trainval-test} ({@link #splitMode} reads it). */
        public String optionName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        /** The training split of {@code layout} in this mode. */
        public String trainSplit(ImageSources.Layout layout) {
            return switch (layout) {
                case VTAB_LISTS -> this == TRAIN_VAL ? "train800" : "train800val200";
                case FGVC_JSON, SPLIT_FOLDERS, DTD_LISTS, FOOD101_META, GTSRB_FILES, CIFAR_PICKLES, SVHN_MAT -> "train";
                case CLASS_FOLDER -> throw new IllegalArgumentException("a single class folder has no splits");
            };
        }

        /** The evaluation split of {@code layout} in this mode. */
        public String evaluationSplit(ImageSources.Layout layout) {
            return switch (layout) {
                case VTAB_LISTS -> this == TRAIN_VAL ? "val200" : "test";
                case FGVC_JSON, SPLIT_FOLDERS, DTD_LISTS, FOOD101_META, GTSRB_FILES, CIFAR_PICKLES, SVHN_MAT ->
                        this == TRAIN_VAL ? "val" : "test";
                case CLASS_FOLDER -> throw new IllegalArgumentException("a single class folder has no splits");
            };
        }
    }

    /**
     * The two splits of a run.
     *
     * @param train      what the model trains on (random crop and flip when the preset has them)
     * @param evaluation what it is evaluated on, never a subset of {@code train}
     * @param classNames the benchmark's classes in label order, as the data names them
     */
    public record Splits(LabelledImages train, LabelledImages evaluation, List<String> classNames) {
    }

    /** One split as read: its images, the classes it names, and how messages name it. */
    private record Split(LabelledImages images, List<String> classNames, String source) {
        static Split open(ImageSources.Layout layout, Path directory, String split, ImagePreprocessing preprocessing,
                          boolean strict) {
            return switch (layout) {
                case CIFAR_PICKLES -> of(TorchvisionArchives.cifar(directory, split, preprocessing));
                case SVHN_MAT -> of(TorchvisionArchives.svhn(directory, split, preprocessing));
                default -> {
                    StreamedImages images = StreamedImages.open(directory, split, preprocessing, strict);
                    yield new Split(images, images.classNames(), images.list().source());
                }
            };
        }

        private static Split of(PixelArrayImages images) {
            return new Split(images, images.classNames(), images.source());
        }
    }

    private BenchmarkData() {
    }

    /**
     * The splits of {@code benchmark} in {@code directory} for {@code mode}, for a model taking
     * {@code channels × height × width} images.
     *
     * @param strict a corrupt image is an error instead of being skipped
     * @throws IllegalArgumentException in one line, before any decoding, when the benchmark has no reader for its
     *                                  layout yet, the directory holds another layout, a split is missing, or the
     *                                  splits hold another number of classes than the benchmark has
     */
    public static Splits open(Benchmark benchmark, Path directory, SplitMode mode, int channels, int height,
                              int width, boolean strict) {
        return open(benchmark, directory, mode, preprocessing(benchmark, channels, height, width), strict);
    }

    /**
     * The benchmark's preprocessing preset sized to a model taking {@code channels × height × width} images.
     *
     * @throws IllegalArgumentException when the benchmark has no reader yet (see {@link #open})
     */
    public static ImagePreprocessing preprocessing(Benchmark benchmark, int channels, int height, int width) {
        if (benchmark.layout() == null || benchmark.preprocessing() == null) {
            throw new IllegalArgumentException(benchmark.id() + ": no reader for its data layout yet (the paper "
                    + "does not give its layout or preprocessing); see docs/BENCHMARKS-PAPER.md");
        }
        return ImagePreprocessing.preset(benchmark.preprocessing()).forInput(channels, height, width);
    }

    /**
     * As {@link #open(Benchmark, Path, SplitMode, int, int, int, boolean)}, preprocessing as {@code preprocessing}
     * says (a resumed run's stored pipeline), which must be the benchmark's preset at some input size.
     */
    public static Splits open(Benchmark benchmark, Path directory, SplitMode mode, ImagePreprocessing preprocessing,
                              boolean strict) {
        ImagePreprocessing expected = preprocessing(benchmark, preprocessing.getChannels(),
                preprocessing.outputHeight(), preprocessing.outputWidth());
        if (!expected.toJson().equals(preprocessing.toJson())) {
            throw new IllegalArgumentException(benchmark.id() + " preprocesses as '" + benchmark.preprocessing()
                    + "', not as " + preprocessing.toJson());
        }
        ImageSources.Layout found = ImageSources.layout(directory);
        if (found != benchmark.layout()) {
            throw new IllegalArgumentException(directory + " holds " + found.description + ", but " + benchmark.id()
                    + " comes as " + benchmark.layout().description);
        }
        Split train = Split.open(found, directory, mode.trainSplit(found), preprocessing, strict);
        Split evaluation = Split.open(found, directory, mode.evaluationSplit(found), preprocessing, strict);
        for (Split split : List.of(train, evaluation)) {
            if (split.classNames().size() != benchmark.classes()) {
                throw new IllegalArgumentException(split.source() + ": " + split.classNames().size() + " classes, "
                        + "but " + benchmark.id() + " has " + benchmark.classes() + "; is it the right dataset?");
            }
        }
        return new Splits(train.images(), evaluation.images(), train.classNames());
    }

    /** The mode named on the command line: {@code train-val} or {@code trainval-test} (either case, '_' or '-'). */
    public static SplitMode splitMode(String name) {
        String n = name.strip().toUpperCase(Locale.ROOT).replace('-', '_');
        for (SplitMode m : SplitMode.values()) {
            if (m.name().equals(n)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown split mode '" + name + "'; expected train-val (choosing settings: "
                + "train800 -> val200) or trainval-test (the reported numbers: train800val200 -> test)");
    }
}
