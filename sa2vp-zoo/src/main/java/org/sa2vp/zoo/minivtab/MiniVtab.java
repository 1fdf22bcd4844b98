package org.sa2vp.zoo.minivtab;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Mini-VTAB: six small image classification tasks built deterministically from real images bundled in this jar, in
 * the three groups of VTAB-1k (Zhai et al. 2019), so that SA2VP runs offline on real data with the real VTAB-1k file
 * layout. Each task folder holds {@code images/*.png} (32×32, grey or RGB) and the list files {@code train800.txt},
 * {@code val200.txt}, {@code train800val200.txt} and {@code test.txt} ({@code images/<name>.png <label>} per line),
 * which {@code org.sa2vp.data.VtabTask} and the authors' VPT/NOAH/SA2VP loaders read. Training and validation
 * images never come from the same source images (or image regions, or glyphs) as test images.
 */
public final class MiniVtab {

    /** The VTAB-1k task groups. */
    public enum Group {
        NATURAL, SPECIALIZED, STRUCTURED
    }

    /** The seed of the committed results and of {@code sa2vp minivtab}'s generated data. */
    public static final long DEFAULT_SEED = 0;

    /** Side of every generated image. */
    public static final int IMAGE_SIZE = 32;
    public static final int TRAIN_SIZE = 800;
    public static final int VAL_SIZE = 200;
    /** Test images of the generated (not enumerated) tasks. */
    public static final int GENERATED_TEST_SIZE = 1000;

    private static final String TWEMOJI = "Twemoji 16.0 graphics (npm emoji-datasource-twitter 16.0.0)";
    private static final String TWEMOJI_LICENCE = "CC-BY 4.0: Copyright 2020 Twitter, Inc and other contributors, "
            + "graphics licensed under CC-BY 4.0 (https://creativecommons.org/licenses/by/4.0/); downscaled to 32x32 "
            + "on white, 256-colour palette";
    private static final String OPTDIGITS = "UCI optdigits test set as bundled by scikit-learn 1.2.1 "
            + "(Debian python3-sklearn); Alpaydin, E. and Kaynak, C. (1998), Optical Recognition of Handwritten "
            + "Digits, UCI Machine Learning Repository, https://doi.org/10.24432/C50P49";
    private static final String OPTDIGITS_LICENCE = "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/); "
            + "8x8 images upscaled to 32x32";
    private static final String TEXTURES = "scikit-image 0.19.3 sample images (Debian python3-skimage): brick, "
            + "grass, gravel (CC0 texture photographs), Hubble eXtreme Deep Field (NASA) and a retina fundus photograph"
            + " (Häggström 2014), both as grey 512x512 centre crops";
    private static final String TEXTURES_LICENCE = "CC0 1.0 (brick, grass, gravel, retina); public domain (NASA "
            + "Hubble image)";
    private static final String OPENCV_DIGITS = "OpenCV 4.6.0 samples/data/digits.png (Debian opencv-doc): 5000 "
            + "handwritten digit glyphs of 20x20";
    private static final String OPENCV_LICENCE = "Apache-2.0 (OpenCV 4.5+) / BSD-3-Clause (earlier OpenCV releases)";

    /** The tasks; the folder name is the task's name. */
    public enum Task {
        TWEMOJI_CATEGORY("twemoji_category", Group.NATURAL, 9, 3,
                "Unicode category of a Twemoji emoji (Smileys & Emotion, People & Body, Animals & Nature, Food & "
                        + "Drink, Travel & Places, Activities, Objects, Symbols, Flags); every base emoji once, "
                        + "stratified 800/200/rest", TWEMOJI, TWEMOJI_LICENCE),
        OPTDIGITS_DIGIT("optdigits_digit", Group.NATURAL, 10, 1,
                "handwritten digit 0-9 (UCI optdigits, 8x8 upscaled bilinearly); every image once, stratified "
                        + "800/200/rest", OPTDIGITS, OPTDIGITS_LICENCE),
        TEXTURE_PATCH("texture_patch", Group.SPECIALIZED, 5, 1,
                "which of 5 textures (brick, grass, gravel, stars, retina) a 32x32 patch comes from; patches randomly "
                        + "rotated and scaled 0.8-1.25x, train/val from the top 320 rows of each 512x512 texture, "
                        + "test from the bottom 192", TEXTURES, TEXTURES_LICENCE),
        DIGIT_COUNT("digit_count", Group.STRUCTURED, 6, 1,
                "how many handwritten digits (1-6, label = count - 1) are on the canvas, each in its own cell of a "
                        + "3x3 grid (like Clevr/count); glyph columns 0-69 for train/val, 70-99 for test",
                OPENCV_DIGITS, OPENCV_LICENCE),
        DIGIT_LOCATION("digit_location", Group.STRUCTURED, 9, 1,
                "which cell of a 3x3 grid the centre of one random handwritten digit lies in (like "
                        + "dSprites/location); glyph columns 0-69 for train/val, 70-99 for test",
                OPENCV_DIGITS, OPENCV_LICENCE),
        DIGIT_ORIENTATION("digit_orientation", Group.STRUCTURED, 8, 1,
                "rotation of one handwritten digit 2, 3, 4, 5 or 7 in 8 bins of 45 degrees counter-clockwise, bin k "
                        + "covering k*45 +- 22.5 degrees (like dSprites/orientation); glyph columns 0-69 for "
                        + "train/val, 70-99 for test", OPENCV_DIGITS, OPENCV_LICENCE);

        private final String folderName;
        private final Group group;
        private final int numClasses;
        private final int channels;
        private final String description;
        private final String source;
        private final String licence;

        Task(String folderName, Group group, int numClasses, int channels, String description, String source,
             String licence) {
            this.folderName = folderName;
            this.group = group;
            this.numClasses = numClasses;
            this.channels = channels;
            this.description = description;
            this.source = source;
            this.licence = licence;
        }

        /** The task folder's name, e.g. {@code digit_count}. */
        public String folderName() {
            return folderName;
        }

        /** The task whose folder is {@code name}. */
        public static Task fromFolderName(String name) {
            for (Task t : values()) {
                if (t.folderName().equals(name)) {
                    return t;
                }
            }
            throw new IllegalArgumentException("unknown mini-VTAB task '" + name + "'; expected one of "
                    + java.util.Arrays.stream(values()).map(Task::folderName).toList());
        }

        public Group group() {
            return group;
        }

        public int numClasses() {
            return numClasses;
        }

        /** 1 (grey PNGs) or 3 (RGB PNGs). */
        public int channels() {
            return channels;
        }

        public String description() {
            return description;
        }

        /** Where the images come from. */
        public String source() {
            return source;
        }

        /** Licence and attribution of the source images. */
        public String licence() {
            return licence;
        }

        /** Writes this task into {@code outDir/<folderName>}; see {@link MiniVtab#generate(Path, long, Task)}. */
        public Path generate(Path outDir, long seed) {
            return MiniVtab.generate(outDir, seed, this);
        }
    }

    private MiniVtab() {
    }

    /** {@code MiniVtab <outDir> [seed]}: writes all tasks (seed 0 by default). */
    public static void main(String[] args) {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: MiniVtab <output folder> [seed]");
            System.exit(2);
        }
        Path outDir = Path.of(args[0]);
        for (Path folder : generate(outDir, args.length > 1 ? Long.parseLong(args[1]) : DEFAULT_SEED)) {
            System.out.println("wrote " + folder);
        }
    }

    /** All tasks into {@code outDir/<task>/} plus {@code outDir/tasks.json} describing them; returns the folders. */
    public static List<Path> generate(Path outDir, long seed) {
        List<Path> folders = new ArrayList<>();
        StringBuilder json = new StringBuilder("[\n");
        for (Task task : Task.values()) {
            Path folder = generate(outDir, seed, task);
            folders.add(folder);
            json.append(task.ordinal() == 0 ? "" : ",\n").append(describe(task, countLines(folder)));
        }
        write(outDir.resolve("tasks.json"), json.append("\n]\n").toString());
        return folders;
    }

    /**
     * One task into {@code outDir/<task>/}: {@code images/{train,val,test}_NNNNN.png}, the four list files and a
     * {@code README.txt} with source and licence. The same seed gives byte-identical files.
     *
     * @return the task folder
     */
    public static Path generate(Path outDir, long seed, Task task) {
        Random random = new Random(seed * 0x9E3779B97F4A7C15L + task.ordinal());
        Splits splits = switch (task) {
            case TWEMOJI_CATEGORY -> Tasks.stratified(Sources.twemoji().images(), task.numClasses(), random);
            case OPTDIGITS_DIGIT -> Tasks.optdigits(random);
            case TEXTURE_PATCH -> Tasks.texturePatches(random);
            case DIGIT_COUNT -> Tasks.digitCount(random);
            case DIGIT_LOCATION -> Tasks.digitLocation(random);
            case DIGIT_ORIENTATION -> Tasks.digitOrientation(random);
        };
        Path folder = outDir.resolve(task.folderName());
        try {
            Files.createDirectories(folder.resolve("images"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + folder.resolve("images") + ": " + e.getMessage(), e);
        }
        String train = writeImages(folder, "train", splits.train(), task.channels());
        String val = writeImages(folder, "val", splits.val(), task.channels());
        write(folder.resolve("train800.txt"), train);
        write(folder.resolve("val200.txt"), val);
        write(folder.resolve("train800val200.txt"), train + val);
        write(folder.resolve("test.txt"), writeImages(folder, "test", splits.test(), task.channels()));
        write(folder.resolve("README.txt"), readme(task, splits));
        return folder;
    }

    /** Images {@code [C, 32, 32]} in [0, 1] (channel-major) and their labels. */
    record Split(List<float[]> images, List<Integer> labels) {

        Split() {
            this(new ArrayList<>(), new ArrayList<>());
        }

        void add(float[] image, int label) {
            images.add(image);
            labels.add(label);
        }

        int size() {
            return labels.size();
        }
    }

    record Splits(Split train, Split val, Split test) {
    }

    /** Writes the PNGs and returns the list file text, one {@code images/<name>.png <label>} line per image. */
    private static String writeImages(Path folder, String prefix, Split split, int channels) {
        StringBuilder list = new StringBuilder();
        for (int i = 0; i < split.size(); i++) {
            String name = String.format("images/%s_%05d.png", prefix, i);
            writePng(folder.resolve(name), split.images().get(i), channels);
            list.append(name).append(' ').append(split.labels().get(i)).append('\n');
        }
        return list.toString();
    }

    private static void writePng(Path file, float[] pixels, int channels) {
        int plane = IMAGE_SIZE * IMAGE_SIZE;
        if (pixels.length != channels * plane) {
            throw new IllegalStateException("image of " + pixels.length + " values, expected " + channels * plane);
        }
        BufferedImage image = new BufferedImage(IMAGE_SIZE, IMAGE_SIZE,
                channels == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_3BYTE_BGR);
        WritableRaster raster = image.getRaster();
        for (int c = 0; c < channels; c++) {
            int[] samples = new int[plane];
            for (int i = 0; i < plane; i++) {
                samples[i] = Math.round(Math.max(0f, Math.min(1f, pixels[c * plane + i])) * 255f);
            }
            raster.setSamples(0, 0, IMAGE_SIZE, IMAGE_SIZE, c, samples);
        }
        try {
            if (!ImageIO.write(image, "png", file.toFile())) {
                throw new IllegalStateException("no PNG writer in javax.imageio");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static int[] countLines(Path folder) {
        int[] counts = new int[3];
        String[] lists = {"train800.txt", "val200.txt", "test.txt"};
        for (int i = 0; i < lists.length; i++) {
            try {
                counts[i] = (int) Files.readAllLines(folder.resolve(lists[i])).stream()
                        .filter(line -> !line.isBlank()).count();
            } catch (IOException e) {
                throw new UncheckedIOException(folder.resolve(lists[i]) + ": " + e.getMessage(), e);
            }
        }
        return counts;
    }

    private static String describe(Task task, int[] sizes) {
        return "  {\"name\": " + quote(task.folderName()) + ", \"group\": " + quote(task.group().name())
                + ", \"classes\": " + task.numClasses() + ", \"channels\": " + task.channels()
                + ", \"imageSize\": " + IMAGE_SIZE + ", \"train800\": " + sizes[0] + ", \"val200\": " + sizes[1]
                + ", \"test\": " + sizes[2] + ",\n   \"description\": " + quote(task.description())
                + ",\n   \"source\": " + quote(task.source()) + ",\n   \"licence\": " + quote(task.licence()) + "}";
    }

    private static String readme(Task task, Splits splits) {
        return "mini-VTAB task " + task.folderName() + " (" + task.group() + ", " + task.numClasses() + " classes, "
                + IMAGE_SIZE + "x" + IMAGE_SIZE + (task.channels() == 1 ? " grey" : " RGB") + ")\n"
                + task.description() + "\n\n"
                + "splits: train800.txt " + splits.train().size() + ", val200.txt " + splits.val().size()
                + ", train800val200.txt " + (splits.train().size() + splits.val().size()) + ", test.txt "
                + splits.test().size() + " lines of 'images/<name>.png <label>'\n"
                + "source: " + task.source() + "\n"
                + "licence: " + task.licence() + "\n"
                + "generated by org.sa2vp.zoo.minivtab.MiniVtab (sa2vp-dl4j)\n";
    }

    private static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char ch : text.toCharArray()) {
            switch (ch) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                default -> out.append(ch < 0x20 ? String.format("\\u%04x", (int) ch) : String.valueOf(ch));
            }
        }
        return out.append('"').toString();
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
