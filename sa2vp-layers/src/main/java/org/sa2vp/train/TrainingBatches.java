package org.sa2vp.train;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.MultiDataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;
import org.sa2vp.data.LabelledImages;
import org.sa2vp.method.TuningMethod;

import java.util.Arrays;
import java.util.NoSuchElementException;

/**
 * A DL4J {@link MultiDataSetIterator} over a {@link LabelledImages} set for the graph of a {@link TuningMethod}:
 * features {@code [B, C, H, W]} in the recipe's data type, one one-hot label array {@code [B, classes]} per output
 * of the method ({@link TuningMethod#labels}: SA2VP's two heads get the same labels). Batches are decoded on
 * {@link #next()}, so memory holds one batch, not the set.
 *
 * <p>In training order (the SA2VP authors' engine) every epoch is shuffled with {@code java.util.Random(seed +
 * epoch)} (Fisher–Yates, specified, so portable) and the last partial batch is dropped when the recipe says so; the
 * epoch also decides the set's random augmentation ({@link LabelledImages#batch(int[], int)}). The order is a pure
 * function of (seed, epoch), which is what makes {@link Trainer#resume} exact. {@link #reset()} moves on to the next
 * epoch (DL4J's {@code ComputationGraph.fit(iterator, epochs)} calls it when an epoch is exhausted, so it reshuffles
 * every epoch as well); {@link #setEpoch} and {@link #skip} place the iterator anywhere.
 */
public final class TrainingBatches implements MultiDataSetIterator {

    private final LabelledImages images;
    private final TuningMethod method;
    private final int batchSize;
    private final boolean shuffle;
    private final boolean dropLast;
    private final long seed;
    private final DataType dataType;
    private MultiDataSetPreProcessor preProcessor;
    private int epoch;
    private int[] order;
    private int nextBatch;

    private TrainingBatches(LabelledImages images, TuningMethod method, int batchSize, boolean shuffle,
                            boolean dropLast, long seed, DataType dataType) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be > 0, got " + batchSize);
        }
        if (images.size() == 0) {
            throw new IllegalArgumentException("the image set is empty");
        }
        this.images = images;
        this.method = method;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.dropLast = dropLast;
        this.seed = seed;
        this.dataType = dataType;
        setEpoch(0);
    }

    /** Batches in the training order of {@code recipe} (its batch size, seed, drop-last and data type). */
    public static TrainingBatches forTraining(LabelledImages images, TuningMethod method, TrainingRecipe recipe) {
        return new TrainingBatches(images, method, recipe.getBatchSize(), true, recipe.isDropLast(), recipe.getSeed(),
                recipe.getDataType());
    }

    /** Every image once, in index order, the last batch partial (evaluation, prediction). */
    public static TrainingBatches inOrder(LabelledImages images, TuningMethod method, int batchSize,
                                          DataType dataType) {
        return new TrainingBatches(images, method, batchSize, false, false, 0, dataType);
    }

    /** Restarts at the first batch of (0-based) {@code epoch}. */
    public void setEpoch(int epoch) {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
        }
        this.epoch = epoch;
        this.order = shuffle ? permutation(images.size(), seed + epoch) : identity(images.size());
        this.nextBatch = 0;
    }

    /** The epoch whose batches {@link #next()} returns. */
    public int epoch() {
        return epoch;
    }

    /** Batches in one epoch. */
    public int batchesPerEpoch() {
        int n = images.size();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /** Skips {@code batches} batches of the current epoch without decoding them. */
    public void skip(int batches) {
        if (batches < 0 || nextBatch + batches > batchesPerEpoch()) {
            throw new IllegalArgumentException("cannot skip " + batches + " batches: " + (batchesPerEpoch() - nextBatch)
                    + " left in epoch " + epoch);
        }
        nextBatch += batches;
    }

    /** The image indices of the next batch (empty at the end of the epoch). */
    int[] nextIndices() {
        if (!hasNext()) {
            return new int[0];
        }
        int from = nextBatch * batchSize;
        return Arrays.copyOfRange(order, from, Math.min(from + batchSize, order.length));
    }

    @Override
    public boolean hasNext() {
        return nextBatch < batchesPerEpoch();
    }

    @Override
    public MultiDataSet next() {
        if (!hasNext()) {
            throw new NoSuchElementException("epoch " + epoch + " has " + batchesPerEpoch() + " batches");
        }
        int[] indices = nextIndices();
        nextBatch++;
        LabelledImages.Batch batch = shuffle ? images.batch(indices, epoch) : images.batch(indices);
        INDArray labels = Trainer.oneHot(batch.labels(), method.getNumClasses(), dataType);
        MultiDataSet out = new org.nd4j.linalg.dataset.MultiDataSet(
                new INDArray[]{batch.images().castTo(dataType)}, method.labels(labels));
        if (preProcessor != null) {
            preProcessor.preProcess(out);
        }
        return out;
    }

    /** {@code num} must be the batch size (the order of the epoch decides which images come next). */
    @Override
    public MultiDataSet next(int num) {
        if (num != batchSize) {
            throw new UnsupportedOperationException("batches are " + batchSize + " images, asked for " + num);
        }
        return next();
    }

    @Override
    public void setPreProcessor(MultiDataSetPreProcessor preProcessor) {
        this.preProcessor = preProcessor;
    }

    @Override
    public MultiDataSetPreProcessor getPreProcessor() {
        return preProcessor;
    }

    @Override
    public boolean resetSupported() {
        return true;
    }

    @Override
    public boolean asyncSupported() {
        return true;
    }

    /** The first batch of the next epoch (in-order batches: the first batch again). */
    @Override
    public void reset() {
        setEpoch(shuffle ? epoch + 1 : epoch);
    }

    /** The epoch's data order: Fisher–Yates with {@code java.util.Random(seed)}. */
    static int[] permutation(int n, long seed) {
        java.util.Random random = new java.util.Random(seed);
        int[] order = identity(n);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    private static int[] identity(int n) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        return order;
    }
}
