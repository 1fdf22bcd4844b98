package org.sa2vp.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * CIFAR-10 (a Python 2 pickle, as the archive is), CIFAR-100 (Python 3 re-pickles) and SVHN (SciPy's MAT-files),
 * written by {@code tools/reference/make_archive_fixtures.py}: every split's size, labels, class names and sample
 * pixels as NumPy sees them ({@code archives.json}), so the 80/20 carving, the label keys, SVHN's 10 → 0 and its
 * column-major [H, W, C, N] order are checked against an independent reader.
 */
class TorchvisionArchivesTest {

    /** No resize, crop, flip or normalisation: a batch holds pixel / 255. */
    private static final ImagePreprocessing AS_STORED = ImagePreprocessing.builder().resize(ImagePreprocessing.Resize
            .STRETCH).resizeHeight(32).resizeWidth(32).mean(new double[]{0}).std(new double[]{1}).build();

    private static Path archives() {
        try {
            return Path.of(TorchvisionArchivesTest.class.getResource("/fixtures/archives").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static PixelArrayImages open(String archive, String split, ImagePreprocessing preprocessing) {
        return switch (archive) {
            case "cifar-10" -> TorchvisionArchives.cifar(archives().resolve("cifar-10-batches-py"), split, preprocessing);
            case "cifar-100" -> TorchvisionArchives.cifar(archives().resolve("cifar-100-python"), split, preprocessing);
            default -> TorchvisionArchives.svhn(archives().resolve("svhn"), split, preprocessing);
        };
    }

    @Test
    void everySplitHoldsNumpysImagesAndLabels() throws IOException {
        JsonNode expected = new ObjectMapper().readTree(archives().resolve("archives.json").toFile());
        int checked = 0;
        for (String archive : List.of("cifar-10", "cifar-100", "svhn")) {
            for (String split : List.of("train", "val", "test")) {
                JsonNode e = expected.get(archive + "/" + split);
                String where = archive + "/" + split;
                PixelArrayImages images = open(archive, split, AS_STORED);
                assertEquals(e.get("size").asInt(), images.size(), where);
                int[] labels = new int[e.get("labels").size()];
                IntStream.range(0, labels.length).forEach(i -> labels[i] = e.get("labels").get(i).asInt());
                assertArrayEquals(labels, images.labels(), where);
                List<String> names = new ArrayList<>();
                e.get("classNames").forEach(n -> names.add(n.asText()));
                assertEquals(names, images.classNames(), where);
                INDArray batch = images.batch(new int[]{0, images.size() - 1}).images();
                assertArrayEquals(new long[]{2, 3, 32, 32}, batch.shape(), where);
                for (JsonNode sample : e.get("samples")) {
                    int image = sample.get(0).asInt() == 0 ? 0 : 1;
                    double value = batch.getDouble(image, sample.get(1).asInt(), sample.get(2).asInt(),
                            sample.get(3).asInt());
                    assertEquals(sample.get(4).asInt() / 255.0, value, 1e-6, where + " " + sample);
                }
                checked++;
            }
        }
        assertEquals(9, checked);
    }

    @Test
    void layoutsAreDetectedAndSplitsShareNothing() {
        assertEquals(ImageSources.Layout.CIFAR_PICKLES, ImageSources.layout(archives().resolve("cifar-10-batches-py")));
        assertEquals(ImageSources.Layout.CIFAR_PICKLES, ImageSources.layout(archives().resolve("cifar-100-python")));
        assertEquals(ImageSources.Layout.SVHN_MAT, ImageSources.layout(archives().resolve("svhn")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ImageSources.detect(archives().resolve("svhn"), "train"));
        assertTrue(e.getMessage().endsWith("holds SVHN MATLAB files (train_32x32.mat, test_32x32.mat): pixel arrays, "
                + "not image files; TorchvisionArchives reads them (as a benchmark run of hta/cifar-10, hta/cifar-100 or "
                + "hta/svhn does)"), e.getMessage());
        // Training and validation are disjoint ranges of one training file; their digests differ.
        PixelArrayImages train = open("cifar-10", "train", AS_STORED);
        PixelArrayImages validation = open("cifar-10", "val", AS_STORED);
        assertTrue(train.source().endsWith("(train: images 0..39)"), train.source());
        assertTrue(validation.source().endsWith("(val: images 40..49)"), validation.source());
        assertNotEquals(train.fingerprint(), validation.fingerprint());
        assertEquals(train.fingerprint(), open("cifar-10", "train", AS_STORED).fingerprint());
    }

    @Test
    void batchesGoThroughTheBenchmarkPreprocessing() {
        // FGVC at 16 × 16: shorter side 18, random crop and flip for training, centre crop for evaluation.
        ImagePreprocessing fgvc = ImagePreprocessing.fgvc().forInput(3, 16, 16);
        PixelArrayImages images = open("svhn", "train", fgvc);
        INDArray evaluation = images.batch(new int[]{3}).images();
        assertArrayEquals(new long[]{1, 3, 16, 16}, evaluation.shape());
        assertEquals(evaluation, images.batch(new int[]{3}).images(), "evaluation batches are deterministic");
        // Training crops depend on the epoch, and repeat exactly for the same epoch (a resumed run sees the same).
        assertEquals(images.batch(new int[]{3}, 2).images(), images.batch(new int[]{3}, 2).images());
        boolean differs = IntStream.range(0, 6).anyMatch(epoch -> !images.batch(new int[]{3}, epoch).images()
                .equals(evaluation));
        assertTrue(differs, "some training epoch crops or flips image 3 differently from the centre crop");
        // The same pipeline applied by hand to the stored pixels.
        INDArray stored = open("svhn", "train", AS_STORED).batch(new int[]{3}).images();
        assertTrue(fgvc.apply(stored, false, 0, 3).equalsWithEps(evaluation, 1e-6));
        // One-channel models see the BT.601 luminance.
        PixelArrayImages grey = open("cifar-10", "test", AS_STORED.withChannels(1).withMean(new double[]{0})
                .withStd(new double[]{1}));
        INDArray rgb = open("cifar-10", "test", AS_STORED).batch(new int[]{0}).images();
        double luminance = 0.299 * rgb.getDouble(0, 0, 4, 5) + 0.587 * rgb.getDouble(0, 1, 4, 5)
                + 0.114 * rgb.getDouble(0, 2, 4, 5);
        assertEquals(luminance, grey.batch(new int[]{0}).images().getDouble(0, 0, 4, 5), 1e-6);
    }

    @Test
    void wrongArchivesAreOneLine(@TempDir Path dir) throws IOException {
        Path cifar = Files.createDirectories(dir.resolve("cifar"));
        Files.copy(archives().resolve("cifar-10-batches-py/batches.meta"), cifar.resolve("batches.meta"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TorchvisionArchives.cifar(cifar, "train", AS_STORED));
        assertEquals("CIFAR file " + cifar.resolve("data_batch_1") + " not found", e.getMessage());
        // A batch whose pickle would run code: refused before anything else.
        Files.copy(archives().resolve("refused.pkl"), cifar.resolve("test_batch"));
        e = assertThrows(IllegalArgumentException.class, () -> TorchvisionArchives.cifar(cifar, "test", AS_STORED));
        assertTrue(e.getMessage().startsWith(cifar.resolve("test_batch") + ": the pickle calls posix.system"),
                e.getMessage());
        // A dictionary without CIFAR's keys names the key and what it holds.
        Files.copy(archives().resolve("arrays-protocol4.pkl"), cifar.resolve("data_batch_1"));
        e = assertThrows(IllegalArgumentException.class, () -> TorchvisionArchives.cifar(cifar, "train", AS_STORED));
        assertEquals(cifar.resolve("data_batch_1") + ": no key 'data' (it holds [uint8, int64, big_endian_int32, "
                + "uint16, bool, fortran_int16, scalar_shape])", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TorchvisionArchives.cifar(cifar, "extra", AS_STORED));
        assertEquals("no split 'extra' in " + cifar + ": it has [train, val, test]", e.getMessage());
        Path svhn = Files.createDirectories(dir.resolve("svhn"));
        Files.copy(archives().resolve("narrow.mat"), svhn.resolve("train_32x32.mat"));
        e = assertThrows(IllegalArgumentException.class, () -> TorchvisionArchives.svhn(svhn, "val", AS_STORED));
        assertEquals(svhn.resolve("train_32x32.mat") + ": no variable 'X' (it holds [y])", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TorchvisionArchives.svhn(svhn, "test", AS_STORED));
        assertEquals("SVHN file " + svhn.resolve("test_32x32.mat") + " not found", e.getMessage());
    }
}
