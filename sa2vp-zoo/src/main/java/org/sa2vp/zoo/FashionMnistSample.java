package org.sa2vp.zoo;

import org.sa2vp.data.FashionMnist;
import org.sa2vp.data.InMemoryImages;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A bundled slice of Fashion-MNIST (Xiao, Rasul and Vollgraf 2017, MIT licence): the first {@value #TRAIN_IMAGES}
 * training and first {@value #TEST_IMAGES} test images of the published IDX files, unchanged (3.9 MB gzipped), so
 * that the learning tests and examples run on a machine without Debian's {@code dataset-fashion-mnist} (the whole
 * set, {@link FashionMnist#DEFAULT_DIRECTORY}). {@code tools/data/make_fashion_mnist_sample.py} made the files;
 * docs/DATA.md records their SHA-256s.
 */
public final class FashionMnistSample {

    public static final int TRAIN_IMAGES = 4000;
    public static final int TEST_IMAGES = 5000;
    private static final String RESOURCES = "fashion-mnist-sample/";
    private static final String[] FILES = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    private static Path directory;

    private FashionMnistSample() {
    }

    /** A split of the sample: images {@code [N, 1, 28, 28]} in [0, 1], labels in [0, 10). */
    public static InMemoryImages load(FashionMnist.Split split) {
        return FashionMnist.load(directory(), split);
    }

    /**
     * A directory holding the sample's four files under their published names, for code that reads Fashion-MNIST
     * from a directory ({@link FashionMnist#load(Path, FashionMnist.Split)}, {@code sa2vp pretrain --data}):
     * copied out of the jar once per JVM into a temporary directory, deleted on exit.
     */
    public static synchronized Path directory() {
        if (directory == null) {
            try {
                Path dir = Files.createTempDirectory("sa2vp-fashion-mnist-sample");
                dir.toFile().deleteOnExit();
                for (String name : FILES) {
                    Path target = dir.resolve(name);
                    try (InputStream in = FashionMnistSample.class.getResourceAsStream(RESOURCES + name)) {
                        if (in == null) {
                            throw new IllegalStateException("the sa2vp-zoo jar lacks " + RESOURCES + name);
                        }
                        Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                    }
                    target.toFile().deleteOnExit();
                }
                directory = dir;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot unpack the bundled Fashion-MNIST sample: " + e.getMessage(), e);
            }
        }
        return directory;
    }
}
