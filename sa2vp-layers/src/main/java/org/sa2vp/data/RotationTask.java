package org.sa2vp.data;

import java.util.Random;

/**
 * A 4-way task built from any square images: predict by how many quarter turns (0°, 90°, 180°, 270°
 * counter-clockwise) an image was rotated, the self-supervised pretext task of Gidaris et al. (2018) used here
 * VTAB-style, as a downstream task a classifier trained on upright images was never asked to solve. Each class
 * gets a quarter of the images (±1), assigned by a seeded shuffle, so the task is deterministic.
 */
public final class RotationTask {

    public static final int NUM_CLASSES = 4;

    private RotationTask() {
    }

    /**
     * @param source images {@code [N, C, S, S]}; their labels are discarded
     * @return the rotated images {@code [N, C, S, S]} with labels = quarter turns in {@code [0, 4)}
     */
    public static InMemoryImages of(InMemoryImages source, long seed) {
        int n = source.size();
        int[] turns = new int[n];
        for (int i = 0; i < n; i++) {
            turns[i] = i % NUM_CLASSES;
        }
        Random random = new Random(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = turns[i];
            turns[i] = turns[j];
            turns[j] = swap;
        }
        return new InMemoryImages(ImageTransforms.rotate90(source.images(), turns), turns, NUM_CLASSES);
    }
}
