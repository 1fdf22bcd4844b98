package org.sa2vp.zoo.minivtab;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sa2vp.data.InMemoryImages;
import org.sa2vp.data.VtabSplit;
import org.sa2vp.data.VtabTask;
import org.sa2vp.zoo.minivtab.MiniVtab.Task;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Mini-VTAB generated from the bundled sources: layout, split sizes and disjointness, determinism. */
class MiniVtabTest {

    private static final long SEED = 42;
    private static final Pattern LINE = Pattern.compile("images/(train|val|test)_\\d{5}\\.png (0|[1-9]\\d*)");

    @TempDir
    static Path out;

    @BeforeAll
    static void generate() {
        MiniVtab.generate(out, SEED);
    }

    @Test
    void sameSeedGivesByteIdenticalFiles(@TempDir Path again) throws IOException {
        Task task = Task.DIGIT_ORIENTATION;
        task.generate(again, SEED);
        assertEquals(hashes(out.resolve(task.folderName())), hashes(again.resolve(task.folderName())));
        Path other = again.resolve("other");
        Task.OPTDIGITS_DIGIT.generate(other, SEED + 1);
        assertFalse(hashes(out.resolve(Task.OPTDIGITS_DIGIT.folderName()))
                .equals(hashes(other.resolve(Task.OPTDIGITS_DIGIT.folderName()))), "another seed, other splits");
    }

    @Test
    void everyTaskHasTheVtab1kListFilesAndSizes() throws IOException {
        for (Task task : Task.values()) {
            Path folder = out.resolve(task.folderName());
            List<String> train = lines(folder, "train800.txt"), val = lines(folder, "val200.txt");
            List<String> both = lines(folder, "train800val200.txt"), test = lines(folder, "test.txt");
            assertEquals(MiniVtab.TRAIN_SIZE, train.size(), task.folderName());
            assertEquals(MiniVtab.VAL_SIZE, val.size(), task.folderName());
            List<String> concatenated = new ArrayList<>(train);
            concatenated.addAll(val);
            assertEquals(concatenated, both, task.folderName());
            assertTrue(test.size() >= 500, task.folderName() + " test " + test.size());
            Set<String> files = new HashSet<>();
            int[] trainCounts = new int[task.numClasses()];
            for (List<String> split : List.of(train, val, test)) {
                for (String line : split) {
                    assertTrue(LINE.matcher(line).matches(), task.folderName() + ": " + line);
                    String[] fields = line.split(" ");
                    assertTrue(files.add(fields[0]), fields[0] + " in two splits");
                    assertTrue(Files.isRegularFile(folder.resolve(fields[0])), fields[0]);
                    int label = Integer.parseInt(fields[1]);
                    assertTrue(label < task.numClasses(), line);
                    if (split == train) {
                        trainCounts[label]++;
                    }
                }
            }
            for (int c = 0; c < task.numClasses(); c++) {
                assertTrue(trainCounts[c] > 0, task.folderName() + ": class " + c + " missing from train800");
            }
            try (Stream<Path> images = Files.list(folder.resolve("images"))) {
                assertEquals(files.size(), images.count(), "no unlisted images");
            }
        }
        String json = Files.readString(out.resolve("tasks.json"));
        for (Task task : Task.values()) {
            assertTrue(json.contains("\"name\": \"" + task.folderName() + "\""), json);
        }
        assertTrue(json.contains("CC-BY 4.0"), json);
    }

    @Test
    void taskReadsBackAsImagesOfTheDeclaredShape() {
        for (Task task : Task.values()) {
            VtabTask vtab = VtabTask.open(out.resolve(task.folderName()));
            assertEquals(task.numClasses(), vtab.numClasses(), task.folderName());
            InMemoryImages val = vtab.split(VtabSplit.VAL200, task.channels(), MiniVtab.IMAGE_SIZE);
            assertArrayEquals(new long[]{MiniVtab.VAL_SIZE, task.channels(), 32, 32}, val.images().shape());
            double mean = val.images().meanNumber().doubleValue();
            assertTrue(mean > 0.02 && mean < 0.98, task.folderName() + " mean pixel " + mean);
        }
    }

    @Test
    void structuredTasksDrawTrainAndTestGlyphsFromDisjointColumns() {
        // Every glyph the generator can pick for train/val lies in mosaic columns 0..69, for test in 70..99; the
        // two column ranges share no pixel of the 2000-pixel-wide mosaic.
        assertEquals(70, Tasks.TRAIN_GLYPH_COLUMNS);
        Sources.Glyphs glyphs = Sources.glyphs();
        assertEquals(2000, glyphs.width());
        float[] lastTrain = glyphs.glyph(3, 169), firstTest = glyphs.glyph(3, 170);
        assertFalse(Arrays.equals(lastTrain, firstTest));
        // The textures' train/val band (rows 0..319) and test band (320..511) are disjoint with every patch's
        // footprint inside its band, as the margin guarantees.
        assertEquals(320, Tasks.TRAIN_TEXTURE_ROWS);
    }

    @Test
    void stratifiedAllocationKeepsProportions() {
        assertArrayEquals(new int[]{25, 15, 10}, Tasks.allocate(new int[]{50, 30, 20}, 50));
        assertArrayEquals(new int[]{2, 1, 1}, Tasks.allocate(new int[]{10, 7, 3}, 4));
        int[] shares = Tasks.allocate(new int[]{169, 386, 159, 131, 218, 85, 264, 224, 270}, 1000);
        assertEquals(1000, Arrays.stream(shares).sum());
        assertEquals(45, shares[5]);
    }

    private static List<String> lines(Path folder, String name) throws IOException {
        return Files.readAllLines(folder.resolve(name)).stream().filter(line -> !line.isEmpty()).toList();
    }

    private static Map<String, String> hashes(Path folder) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(folder)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                out.put(folder.relativize(file).toString(), sha256(Files.readAllBytes(file)));
            }
        }
        return out;
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
