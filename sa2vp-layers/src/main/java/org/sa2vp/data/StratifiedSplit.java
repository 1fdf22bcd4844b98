package org.sa2vp.data;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * A labelled set cut into train, validation and test parts with each class in the same proportions in every part
 * (up to rounding), e.g. an {@link ImageFolder} without predefined splits. Each class's images are shuffled by a
 * seeded {@link Random}, the first {@code round(n × trainFraction)} go to train, the next
 * {@code round(n × validationFraction)} to validation, the rest to test; every part keeps the source order, so the
 * result depends only on the labels and the seed.
 *
 * @param train      the training part
 * @param validation the validation part (empty when {@code validationFraction} is 0)
 * @param test       the remaining images
 */
public record StratifiedSplit(InMemoryImages train, InMemoryImages validation, InMemoryImages test) {

    /**
     * @param trainFraction      share of each class for training, in [0, 1]
     * @param validationFraction share of each class for validation; {@code trainFraction + validationFraction ≤ 1}
     */
    public static StratifiedSplit of(InMemoryImages images, double trainFraction, double validationFraction,
                                     long seed) {
        if (!(trainFraction >= 0 && validationFraction >= 0 && trainFraction + validationFraction <= 1 + 1e-9)) {
            throw new IllegalArgumentException("fractions must be >= 0 and sum to <= 1, got train " + trainFraction
                    + " and validation " + validationFraction);
        }
        int[] labels = images.labels();
        Random random = new Random(seed);
        int[] part = new int[labels.length];
        for (int label = 0; label < images.numClasses(); label++) {
            List<Integer> members = new ArrayList<>();
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] == label) {
                    members.add(i);
                }
            }
            for (int i = members.size() - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                members.set(j, members.set(i, members.get(j)));
            }
            int trainCount = (int) Math.round(members.size() * trainFraction);
            int validationCount = Math.min((int) Math.round(members.size() * validationFraction),
                    members.size() - trainCount);
            for (int k = 0; k < members.size(); k++) {
                part[members.get(k)] = k < trainCount ? 0 : k < trainCount + validationCount ? 1 : 2;
            }
        }
        return new StratifiedSplit(select(images, part, 0), select(images, part, 1), select(images, part, 2));
    }

    private static InMemoryImages select(InMemoryImages images, int[] part, int which) {
        int[] indices = IntStream.range(0, part.length).filter(i -> part[i] == which).toArray();
        if (indices.length == 0) {
            long[] shape = images.imageShape();
            return new InMemoryImages(Nd4j.create(DataType.FLOAT, 0, shape[0], shape[1], shape[2]), new int[0],
                    images.numClasses());
        }
        return images.subset(indices);
    }
}
