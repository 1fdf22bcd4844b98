package org.sa2vp.zoo.minivtab;

import org.sa2vp.zoo.minivtab.MiniVtab.Split;
import org.sa2vp.zoo.minivtab.MiniVtab.Splits;
import org.sa2vp.zoo.minivtab.Sources.Labelled;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.sa2vp.zoo.minivtab.MiniVtab.GENERATED_TEST_SIZE;
import static org.sa2vp.zoo.minivtab.MiniVtab.IMAGE_SIZE;
import static org.sa2vp.zoo.minivtab.MiniVtab.TRAIN_SIZE;
import static org.sa2vp.zoo.minivtab.MiniVtab.VAL_SIZE;

/** The image makers of the {@link MiniVtab} tasks; every random choice comes from the one seeded {@link Random}. */
final class Tasks {

    /** Glyph columns 0…69 of the OpenCV mosaic feed train/val images, columns 70…99 test images. */
    static final int TRAIN_GLYPH_COLUMNS = 70;
    /** Texture rows 0…319 feed train/val patches, rows 320…511 test patches. */
    static final int TRAIN_TEXTURE_ROWS = 320;
    /** Counting canvas: a 3×3 grid; a digit per occupied cell. */
    private static final int GRID = 3;
    /** Digits whose rotations are unambiguous (0, 1, 8 look alike turned 180°; 6 turned 180° is a 9). */
    private static final int[] ASYMMETRIC_DIGITS = {2, 3, 4, 5, 7};
    private static final double MIN_TEXTURE_SCALE = 0.8;
    private static final double MAX_TEXTURE_SCALE = 1.25;

    private Tasks() {
    }

    /** Draws one image of class {@code label}; {@code test} selects the test-only source pool. */
    private interface Maker {
        float[] make(Random random, int label, boolean test);
    }

    /**
     * Every source image once: per class, {@code 800 + 200} images proportional to the class size (largest
     * remainder), drawn without replacement; train800 and val200 from them, all others to test. Each split in a
     * shuffled order.
     */
    static Splits stratified(List<Labelled> images, int numClasses, Random random) {
        List<List<float[]>> byClass = new ArrayList<>();
        for (int c = 0; c < numClasses; c++) {
            byClass.add(new ArrayList<>());
        }
        for (Labelled image : images) {
            byClass.get(image.label()).add(image.pixels());
        }
        int[] sizes = byClass.stream().mapToInt(List::size).toArray();
        int[] trainAndVal = allocate(sizes, TRAIN_SIZE + VAL_SIZE);
        int[] train = allocate(trainAndVal, TRAIN_SIZE);
        List<Integer> trainOrder = new ArrayList<>(), valOrder = new ArrayList<>(), testOrder = new ArrayList<>();
        List<float[]> pool = new ArrayList<>();
        for (int c = 0; c < numClasses; c++) {
            List<float[]> members = new ArrayList<>(byClass.get(c));
            Collections.shuffle(members, random);
            for (int k = 0; k < members.size(); k++) {
                (k < train[c] ? trainOrder : k < trainAndVal[c] ? valOrder : testOrder).add(pool.size());
                pool.add(members.get(k));
            }
        }
        int[] labels = new int[pool.size()];
        for (int c = 0, i = 0; c < numClasses; c++) {
            for (int k = 0; k < sizes[c]; k++) {
                labels[i++] = c;
            }
        }
        return new Splits(ordered(trainOrder, pool, labels, random), ordered(valOrder, pool, labels, random),
                ordered(testOrder, pool, labels, random));
    }

    private static Split ordered(List<Integer> indices, List<float[]> pool, int[] labels, Random random) {
        Collections.shuffle(indices, random);
        Split split = new Split();
        for (int i : indices) {
            split.add(pool.get(i), labels[i]);
        }
        return split;
    }

    /** {@code total} shared out proportionally to {@code sizes}: floors, then the largest remainders get one more. */
    static int[] allocate(int[] sizes, int total) {
        long sum = 0;
        for (int size : sizes) {
            sum += size;
        }
        if (sum < total) {
            throw new IllegalStateException("only " + sum + " source images for " + total);
        }
        int[] out = new int[sizes.length];
        long[] remainder = new long[sizes.length];
        int given = 0;
        for (int c = 0; c < sizes.length; c++) {
            out[c] = (int) ((long) sizes[c] * total / sum);
            remainder[c] = (long) sizes[c] * total % sum;
            given += out[c];
        }
        while (given < total) {
            int best = 0;
            for (int c = 1; c < sizes.length; c++) {
                if (remainder[c] > remainder[best]) {
                    best = c;
                }
            }
            out[best]++;
            remainder[best] = -1;
            given++;
        }
        return out;
    }

    /** UCI optdigits 8×8 upscaled bilinearly to 32×32, stratified like {@link #stratified}. */
    static Splits optdigits(Random random) {
        List<Labelled> upscaled = new ArrayList<>();
        for (Labelled image : Sources.optdigits().images()) {
            upscaled.add(new Labelled(Render.upscale(image.pixels(), Sources.OPTDIGITS_SIZE, IMAGE_SIZE),
                    image.label()));
        }
        return stratified(upscaled, 10, random);
    }

    /** 32×32 patches of the textures at a random angle and scale, from disjoint row bands for train/val and test. */
    static Splits texturePatches(Random random) {
        List<float[]> textures = Sources.textures();
        int size = Sources.TEXTURE_SIZE;
        int margin = (int) Math.ceil(IMAGE_SIZE / 2.0 * Math.sqrt(2) * MAX_TEXTURE_SCALE) + 1;
        return generated(textures.size(), random, (rnd, label, test) -> {
            int top = test ? TRAIN_TEXTURE_ROWS : 0, bottom = test ? size : TRAIN_TEXTURE_ROWS;
            double centreX = margin + rnd.nextDouble() * (size - 2 * margin);
            double centreY = top + margin + rnd.nextDouble() * (bottom - top - 2 * margin);
            double angle = rnd.nextDouble() * 2 * Math.PI;
            double scale = MIN_TEXTURE_SCALE + rnd.nextDouble() * (MAX_TEXTURE_SCALE - MIN_TEXTURE_SCALE);
            return Render.rotatedCrop(textures.get(label), size, size, centreX, centreY, angle, scale, IMAGE_SIZE);
        });
    }

    /** 1…6 digits (label = count − 1), each 11–13 px tall near the centre of its own random cell of a 3×3 grid. */
    static Splits digitCount(Random random) {
        Sources.Glyphs glyphs = Sources.glyphs();
        double cell = (double) IMAGE_SIZE / GRID;
        return generated(6, random, (rnd, label, test) -> {
            List<Integer> cells = new ArrayList<>();
            for (int i = 0; i < GRID * GRID; i++) {
                cells.add(i);
            }
            Collections.shuffle(cells, rnd);
            float[] canvas = new float[IMAGE_SIZE * IMAGE_SIZE];
            for (int k = 0; k <= label; k++) {
                int at = cells.get(k);
                double centreX = (at % GRID + 0.5) * cell + (rnd.nextDouble() - 0.5) * 2;
                double centreY = (at / GRID + 0.5) * cell + (rnd.nextDouble() - 0.5) * 2;
                float[] glyph = randomGlyph(glyphs, rnd, test, rnd.nextInt(10));
                Render.stamp(canvas, IMAGE_SIZE, glyph, Sources.GLYPH_SIZE, centreX, centreY,
                        11 + rnd.nextDouble() * 2, 0);
            }
            return canvas;
        });
    }

    /** One random digit 11–14 px tall whose centre lies in cell {@code label} (row-major) of a 3×3 grid. */
    static Splits digitLocation(Random random) {
        Sources.Glyphs glyphs = Sources.glyphs();
        double cell = (double) IMAGE_SIZE / GRID;
        double edge = 5;
        return generated(GRID * GRID, random, (rnd, label, test) -> {
            double centreX = inCell(rnd, label % GRID, cell, edge);
            double centreY = inCell(rnd, label / GRID, cell, edge);
            float[] canvas = new float[IMAGE_SIZE * IMAGE_SIZE];
            Render.stamp(canvas, IMAGE_SIZE, randomGlyph(glyphs, rnd, test, rnd.nextInt(10)), Sources.GLYPH_SIZE,
                    centreX, centreY, 11 + rnd.nextDouble() * 3, 0);
            return canvas;
        });
    }

    /** A uniform position in cell {@code index} of width {@code cell}, kept {@code edge} px from the canvas border. */
    private static double inCell(Random random, int index, double cell, double edge) {
        double from = Math.max(index * cell, edge), to = Math.min((index + 1) * cell, IMAGE_SIZE - edge);
        return from + random.nextDouble() * (to - from);
    }

    /**
     * One digit 2, 3, 4, 5 or 7, 22–26 px tall near the centre, turned counter-clockwise by an angle uniform in
     * {@code label · 45° ± 22.5°}.
     */
    static Splits digitOrientation(Random random) {
        Sources.Glyphs glyphs = Sources.glyphs();
        return generated(8, random, (rnd, label, test) -> {
            double angle = Math.toRadians(label * 45 + (rnd.nextDouble() - 0.5) * 45);
            int digit = ASYMMETRIC_DIGITS[rnd.nextInt(ASYMMETRIC_DIGITS.length)];
            float[] canvas = new float[IMAGE_SIZE * IMAGE_SIZE];
            Render.stamp(canvas, IMAGE_SIZE, randomGlyph(glyphs, rnd, test, digit), Sources.GLYPH_SIZE,
                    IMAGE_SIZE / 2.0 + (rnd.nextDouble() - 0.5) * 4, IMAGE_SIZE / 2.0 + (rnd.nextDouble() - 0.5) * 4,
                    22 + rnd.nextDouble() * 4, angle);
            return canvas;
        });
    }

    /** A glyph of {@code digit} from the train/val columns (0…69) or the test columns (70…99) of the mosaic. */
    private static float[] randomGlyph(Sources.Glyphs glyphs, Random random, boolean test, int digit) {
        int column = test ? TRAIN_GLYPH_COLUMNS + random.nextInt(Sources.GLYPHS_PER_ROW - TRAIN_GLYPH_COLUMNS)
                : random.nextInt(TRAIN_GLYPH_COLUMNS);
        int row = random.nextInt(Sources.GLYPH_ROWS_PER_DIGIT);
        return glyphs.glyph(digit, row * Sources.GLYPHS_PER_ROW + column);
    }

    /** 800 + 200 images from the train pool and 1000 from the test pool, classes balanced (±1) and shuffled. */
    private static Splits generated(int numClasses, Random random, Maker maker) {
        List<Integer> trainAndVal = balancedLabels(TRAIN_SIZE + VAL_SIZE, numClasses, random);
        Split train = new Split(), val = new Split(), test = new Split();
        for (int i = 0; i < trainAndVal.size(); i++) {
            int label = trainAndVal.get(i);
            (i < TRAIN_SIZE ? train : val).add(maker.make(random, label, false), label);
        }
        for (int label : balancedLabels(GENERATED_TEST_SIZE, numClasses, random)) {
            test.add(maker.make(random, label, true), label);
        }
        return new Splits(train, val, test);
    }

    private static List<Integer> balancedLabels(int count, int numClasses, Random random) {
        List<Integer> labels = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            labels.add(i % numClasses);
        }
        Collections.shuffle(labels, random);
        return labels;
    }
}
