package org.sa2vp.zoo.benchmark;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sa2vp.data.ImagePreprocessing;
import org.sa2vp.data.ImageSources;
import org.sa2vp.data.PixelArrayImages;
import org.sa2vp.data.StreamedImages;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.StringJoiner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every registered benchmark with a layout, read from a small generated tree in that layout with its registered
 * class count (one 4×4 PNG per class and split; CIFAR and SVHN: the archives made by the fixture script): the reader sees the registered classes, the protocol's split files
 * and the benchmark's preset sized to the model; the reported protocol never evaluates on training images. A wrong
 * tree is one line before any decoding.
 */
class BenchmarkDataTest {

    private static byte[] png(int shade) throws IOException {
        BufferedImage image = new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB);
        image.setRGB(1, 2, shade);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return out.toByteArray();
    }

    /** The CIFAR and SVHN archives of {@code TorchvisionArchivesTest}, made by CPython, NumPy and SciPy. */
    private static final Path ARCHIVES = Path.of("../sa2vp-layers/src/test/resources/fixtures/archives");

    /**
     * Training images in {@link #tree}: one per class, except where the validation split is carved out of the
     * training files (Food-101: every fifth image; GTSRB: every fifth track), which get five per class of which four
     * train; the archives' fixtures hold 50 (CIFAR-10) or 10 training images, of which the first 80 % train.
     */
    private static int trainingImages(Benchmark b) {
        return switch (b.layout()) {
            case FOOD101_META, GTSRB_FILES -> 4 * b.classes();
            case CIFAR_PICKLES -> b.classes() == 10 ? 40 : 8;
            case SVHN_MAT -> 8;
            default -> b.classes();
        };
    }

    /** {@code root} in {@code layout} with {@code classes} classes, one image per class in every split. */
    private static Path tree(Path root, ImageSources.Layout layout, int classes) throws IOException {
        if (layout == ImageSources.Layout.CIFAR_PICKLES || layout == ImageSources.Layout.SVHN_MAT) {
            Path archive = ARCHIVES.resolve(layout == ImageSources.Layout.SVHN_MAT ? "svhn"
                    : classes == 10 ? "cifar-10-batches-py" : "cifar-100-python");
            Files.createDirectories(root);
            try (var files = Files.list(archive)) {
                for (Path file : files.toList()) {
                    Files.copy(file, root.resolve(file.getFileName()));
                }
            }
            return root;
        }
        Files.createDirectories(root);
        byte[] image = png(0x808080);
        if (layout == ImageSources.Layout.DTD_LISTS) {
            for (String split : List.of("train", "val", "test")) {
                StringBuilder lines = new StringBuilder();
                for (int c = 0; c < classes; c++) {
                    String key = String.format("c%03d/%s.png", c, split);
                    Files.createDirectories(root.resolve("images").resolve(key).getParent());
                    Files.write(root.resolve("images").resolve(key), image);
                    lines.append(key).append('\n');
                }
                Files.createDirectories(root.resolve("labels"));
                Files.writeString(root.resolve("labels").resolve(split + "1.txt"), lines);
            }
        } else if (layout == ImageSources.Layout.FOOD101_META) {
            StringJoiner train = new StringJoiner(", ", "{", "}"), test = new StringJoiner(", ", "{", "}");
            for (int c = 0; c < classes; c++) {
                String name = String.format("c%03d", c);
                Files.createDirectories(root.resolve("images").resolve(name));
                StringJoiner ids = new StringJoiner(", ", "[", "]");
                for (String id : List.of("train0", "train1", "train2", "train3", "val4", "test0")) {
                    Files.write(root.resolve("images").resolve(name).resolve(id + ".jpg"), image);
                    if (!id.startsWith("test")) {
                        ids.add("\"" + name + "/" + id + "\"");
                    }
                }
                train.add("\"" + name + "\": " + ids);
                test.add("\"" + name + "\": [\"" + name + "/test0\"]");
            }
            Files.createDirectories(root.resolve("meta"));
            Files.writeString(root.resolve("meta/train.json"), train.toString());
            Files.writeString(root.resolve("meta/test.json"), test.toString());
        } else if (layout == ImageSources.Layout.GTSRB_FILES) {
            StringBuilder csv = new StringBuilder("Filename;ClassId\n");
            Path testImages = Files.createDirectories(root.resolve("GTSRB/Final_Test/Images"));
            for (int c = 0; c < classes; c++) {
                Path folder = Files.createDirectories(root.resolve(String.format("GTSRB/Training/%05d", c)));
                for (int track = 0; track < 5; track++) {
                    Files.write(folder.resolve(String.format("%05d_00000.ppm", track)), image);
                }
                Files.write(testImages.resolve(String.format("test%05d.ppm", c)), image);
                csv.append(String.format("test%05d.ppm;%d%n", c, c));
            }
            Files.writeString(root.resolve("GT-final_test.csv"), csv);
        } else if (layout == ImageSources.Layout.VTAB_LISTS) {
            Path images = Files.createDirectories(root.resolve("images"));
            for (String split : List.of("train800", "val200", "train800val200", "test")) {
                StringBuilder lines = new StringBuilder();
                for (int c = 0; c < classes; c++) {
                    Path file = images.resolve(split + "_" + c + ".png");
                    Files.write(file, image);
                    lines.append("images/").append(file.getFileName()).append(' ').append(c).append('\n');
                }
                Files.writeString(root.resolve(split + ".txt"), lines);
            }
        } else {
            Path images = Files.createDirectories(root.resolve("images"));
            for (String split : List.of("train", "val", "test")) {
                StringJoiner json = new StringJoiner(", ", "{", "}");
                for (int c = 0; c < classes; c++) {
                    String key = split + "/" + (c + 1) + ".png";
                    Files.createDirectories(images.resolve(split));
                    Files.write(images.resolve(key), image);
                    json.add("\"" + key + "\": " + (c + 1));  // class ids 1..K, as VPT's files
                }
                Files.writeString(root.resolve(split + ".json"), json.toString());
            }
        }
        return root;
    }

    @Test
    void everyBenchmarkWithALayoutReadsWithItsClassesSplitsAndPreset(@TempDir Path dir) throws IOException {
        int checked = 0;
        for (Benchmark b : Benchmarks.all()) {
            Path root = tree(dir.resolve(b.id().replace('/', '_')), b.layout(), b.classes());
            for (BenchmarkData.SplitMode mode : BenchmarkData.SplitMode.values()) {
                BenchmarkData.Splits splits = BenchmarkData.open(b, root, mode, 3, 32, 32, true);
                assertEquals(b.classes(), splits.classNames().size(), b.id());
                assertEquals(trainingImages(b), splits.train().size(), b.id());
                ImagePreprocessing expected = ImagePreprocessing.preset(b.preprocessing()).forInput(3, 32, 32);
                String expectedEvaluation = b.layout() == ImageSources.Layout.VTAB_LISTS
                        ? (mode == BenchmarkData.SplitMode.TRAIN_VAL ? "val200" : "test")
                        : (mode == BenchmarkData.SplitMode.TRAIN_VAL ? "val" : "test");
                String evaluated;
                if (splits.train() instanceof PixelArrayImages train) {
                    PixelArrayImages evaluation = (PixelArrayImages) splits.evaluation();
                    assertEquals(expected, train.preprocessing(), b.id());
                    // The archive's source names the split and its image range: train 0..k-1, val k.., test its own file.
                    assertTrue(train.source().endsWith("(train: images 0.." + (trainingImages(b) - 1) + ")"),
                            train.source());
                    evaluated = evaluation.source();
                } else {
                    StreamedImages train = (StreamedImages) splits.train();
                    StreamedImages evaluation = (StreamedImages) splits.evaluation();
                    assertEquals(expected, train.preprocessing(), b.id());
                    Set<Path> trained = new HashSet<>(train.list().files());
                    assertTrue(evaluation.list().files().stream().noneMatch(trained::contains),
                            b.id() + " " + mode + " evaluates on images it does not train on");
                    // GTSRB's held-out tracks keep GTSRB's file names; the listing names the split instead.
                    evaluated = b.layout() == ImageSources.Layout.GTSRB_FILES ? evaluation.list().source()
                            : evaluation.list().files().get(0).toString();
                }
                assertTrue(evaluated.contains(expectedEvaluation), b.id() + " " + mode + ": " + evaluated);
            }
            // The labels are the JSON's class ids − 1 (FGVC), the list file's labels (VTAB-1k).
            BenchmarkData.Splits splits = BenchmarkData.open(b, root, BenchmarkData.SplitMode.TRAIN_VAL, 3, 32, 32,
                    true);
            int last = splits.train().size() - 1;
            assertEquals(b.classes() - 1, splits.train().batch(new int[]{last}).labels()[0], b.id());
            checked++;
        }
        assertEquals(5 + 10 + 19 + 6, checked, "every FGVC, HTA, VTAB-1k and mini-VTAB benchmark");
        // A row a BenchmarkSource may still register without a layout is refused in one line.
        Benchmark dtd = Benchmarks.get("vtab-1k/dtd");
        Benchmark unread = new Benchmark("x/unread", "Unread", dtd.suite(), dtd.group(), dtd.classes(), null,
                dtd.folder(), null, dtd.vit(), null, null, null, null, dtd.source(), dtd.licence(), dtd.notes());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BenchmarkData.open(unread, dir, BenchmarkData.SplitMode.TRAINVAL_TEST, 3, 32, 32, true));
        assertEquals("x/unread: no reader for its data layout yet (the paper does not give its layout or "
                + "preprocessing); see docs/BENCHMARKS-PAPER.md", e.getMessage());
    }

    @Test
    void aWrongTreeIsOneLineBeforeAnyDecoding(@TempDir Path dir) throws IOException {
        Benchmark dtd = Benchmarks.get("vtab-1k/dtd");
        Path fewer = tree(dir.resolve("fewer"), dtd.layout(), dtd.classes() - 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BenchmarkData.open(dtd, fewer, BenchmarkData.SplitMode.TRAINVAL_TEST, 3, 32, 32, false));
        assertTrue(e.getMessage().endsWith(": " + (dtd.classes() - 2) + " classes, but vtab-1k/dtd has "
                + dtd.classes() + "; is it the right dataset?"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));

        Benchmark cub = Benchmarks.get("fgvc/cub-200-2011");
        e = assertThrows(IllegalArgumentException.class,
                () -> BenchmarkData.open(cub, fewer, BenchmarkData.SplitMode.TRAINVAL_TEST, 3, 32, 32, false));
        assertEquals(fewer + " holds VTAB-1k list files, but fgvc/cub-200-2011 comes as FGVC JSON splits",
                e.getMessage());
    }
}
