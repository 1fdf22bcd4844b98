package org.sa2vp.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Fashion-MNIST (Xiao, Rasul and Vollgraf 2017, MIT licence): 28×28 grey images of 10 kinds of clothing, 60000
 * for training and 10000 for testing, 6000/1000 per class. Debian's {@code dataset-fashion-mnist} package installs
 * the whole set in {@link #DEFAULT_DIRECTORY}, as the four gzipped IDX files Zalando publishes (the unzipped files
 * are read as well); sa2vp-zoo bundles the first 4,000 training and 5,000 test images ({@code FashionMnistSample}).
 */
public final class FashionMnist {

    /** Where {@code apt-get install dataset-fashion-mnist} puts the files. */
    public static final Path DEFAULT_DIRECTORY = Path.of("/usr/share/datasets/fashion-mnist");
    public static final int NUM_CLASSES = 10;
    public static final int IMAGE_SIZE = 28;
    /** Class names in label order. */
    public static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    /** The two published splits and their file name prefixes. */
    public enum Split {
        TRAIN("train"),
        TEST("t10k");

        private final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }
    }

    private FashionMnist() {
    }

    /** A split from {@link #DEFAULT_DIRECTORY}: images {@code [N, 1, 28, 28]} in [0, 1], labels in [0, 10). */
    public static InMemoryImages load(Split split) {
        return load(DEFAULT_DIRECTORY, split);
    }

    /**
     * A split from {@code directory}, holding {@code {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]}.
     *
     * @throws MissingDatasetException when a file is absent, saying how to get it
     */
    public static InMemoryImages load(Path directory, Split split) {
        return IdxImages.read(find(directory, split.prefix + "-images-idx3-ubyte"),
                find(directory, split.prefix + "-labels-idx1-ubyte"), NUM_CLASSES);
    }

    private static Path find(Path directory, String name) {
        for (String candidate : new String[]{name + ".gz", name}) {
            Path file = directory.resolve(candidate);
            if (Files.isRegularFile(file)) {
                return file;
            }
        }
        throw new MissingDatasetException("Fashion-MNIST file " + directory.resolve(name + ".gz") + " not found; "
                + "install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or pass "
                + "the directory that holds " + name + "[.gz]");
    }
}
