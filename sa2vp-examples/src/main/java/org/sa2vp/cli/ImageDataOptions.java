package org.sa2vp.cli;

import org.sa2vp.data.ImagePreprocessing;
import org.sa2vp.data.ImageSources;
import org.sa2vp.data.StreamedImages;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * Training and validation data as image files ({@code --data DIR}), decoded batch by batch: the layout is detected
 * ({@link ImageSources#layout}) and gives the default splits, which the options may name instead.
 */
public final class ImageDataOptions {

    @Option(names = "--data", paramLabel = "DIR", description = "image dataset (instead of --train): VTAB-1k list "
            + "files (train800.txt, val200.txt, train800val200.txt, test.txt), FGVC JSON (train.json, val.json, "
            + "test.json), split folders DIR/<split>/<class>/<image>, or one folder DIR/<class>/<image>")
    Path directory;

    @Option(names = "--train-split", paramLabel = "SPLIT", description = "split to train on (default: VTAB lists "
            + "train800val200, the paper's final protocol; FGVC JSON and split folders train; one class folder: "
            + "all of it)")
    String trainSplit;

    @Option(names = "--val-split", paramLabel = "SPLIT", description = "split to validate on after every epoch "
            + "(default: val for FGVC JSON and split folders when present; none for VTAB lists, where tuning uses "
            + "--train-split train800 --val-split val200, and for one class folder)")
    String valSplit;

    @Option(names = "--preprocessing", paramLabel = "PRESET", description = "the authors' image pipeline, sized to "
            + "the backbone's input: vtab1k (stretch, no augmentation; the default) or fgvc (shorter side, random "
            + "crop and flip); written to --out/preprocessing.json, which --resume, eval and predict reuse")
    String preset;

    /** The preset used when {@code --preprocessing} is not given. */
    static final String DEFAULT_PRESET = "vtab1k";

    @Option(names = "--strict", description = "a corrupt image is an error (default: it is replaced by the next "
            + "readable image and counted)")
    boolean strict;

    /** True when {@code --data} is given. */
    public boolean given() {
        return directory != null;
    }

    /** The training and validation splits chosen, with the layout that chose them. */
    record Splits(ImageSources.Layout layout, String train, String validation) {

        /** One line for the start of a run. */
        String describe(Path directory) {
            return "data: " + directory + " (" + layout.description + "): training on "
                    + ImageDatasets.describe(train) + (validation == null ? ", no validation"
                    + (layout == ImageSources.Layout.VTAB_LISTS ? " (tune with --train-split train800 --val-split "
                    + "val200)" : "") : ", validating on " + validation);
        }
    }

    /** The splits to open: those given, else the layout's defaults. */
    Splits splits() {
        ImageSources.Layout layout = ImageSources.layout(directory);
        String train = trainSplit != null ? trainSplit : layout.train;
        String validation = valSplit != null ? valSplit
                : layout.hasDefaultValidation(directory) ? layout.validation : null;
        return new Splits(layout, train, validation);
    }

    /** The preset named by {@code --preprocessing}, sized to an input of {@code channels × height × width}. */
    ImagePreprocessing preprocessing(int channels, int height, int width) {
        return ImagePreprocessing.preset(preset != null ? preset : DEFAULT_PRESET).forInput(channels, height, width);
    }

    /** A split (null: the whole class folder), listed and checked now. */
    StreamedImages open(String split, ImagePreprocessing preprocessing) {
        return ImageDatasets.open(directory, split, preprocessing, strict);
    }
}
