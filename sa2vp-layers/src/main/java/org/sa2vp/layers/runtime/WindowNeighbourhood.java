package org.sa2vp.layers.runtime;

import org.sa2vp.layers.TokenGrid;
import org.sa2vp.layers.AttentionMode;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * Which key tokens each query token attends to in the spatially aligned cross attention (Eq. 2).
 *
 * <p>Token layout of both maps: an optional class token at index 0, then the grid in row-major order.
 * In {@link AttentionMode#LOCAL} mode a query patch at (r, c) of an {@code Hq×Wq} grid looks at the key
 * patches inside a {@code window×window} square centred at
 * {@code (min(⌊(r+½)·Hk/Hq⌋, Hk−1), min(⌊(c+½)·Wk/Wq⌋, Wk−1))} (the same position when both grids are equal),
 * clipped at the border exactly like the authors' code: 4/6/9 keys for a 3×3 window, no padding tokens,
 * and never the key class token. A query class token attends to every key token. In
 * {@link AttentionMode#GLOBAL} mode every query sees every key.
 */
public final class WindowNeighbourhood {

    private final int queryTokens;
    private final int keyTokens;
    private final int[][] keys;

    private WindowNeighbourhood(int queryTokens, int keyTokens, int[][] keys) {
        this.queryTokens = queryTokens;
        this.keyTokens = keyTokens;
        this.keys = keys;
    }

    public static WindowNeighbourhood of(TokenGrid queryGrid, TokenGrid keyGrid, boolean classToken,
                                         int windowSize, AttentionMode mode) {
        int offset = classToken ? 1 : 0;
        int tq = queryGrid.tokens(classToken);
        int tk = keyGrid.tokens(classToken);
        int[][] keys = new int[tq][];
        int[] all = new int[tk];
        Arrays.setAll(all, i -> i);
        if (classToken) {
            keys[0] = all;
        }
        int half = windowSize / 2;
        for (int r = 0; r < queryGrid.getHeight(); r++) {
            for (int c = 0; c < queryGrid.getWidth(); c++) {
                int query = offset + r * queryGrid.getWidth() + c;
                if (mode == AttentionMode.GLOBAL) {
                    keys[query] = all;
                    continue;
                }
                int centreRow = centre(r, queryGrid.getHeight(), keyGrid.getHeight());
                int centreCol = centre(c, queryGrid.getWidth(), keyGrid.getWidth());
                int r0 = Math.max(0, centreRow - half), r1 = Math.min(keyGrid.getHeight() - 1, centreRow + half);
                int c0 = Math.max(0, centreCol - half), c1 = Math.min(keyGrid.getWidth() - 1, centreCol + half);
                int[] window = new int[(r1 - r0 + 1) * (c1 - c0 + 1)];
                int n = 0;
                for (int kr = r0; kr <= r1; kr++) {
                    for (int kc = c0; kc <= c1; kc++) {
                        window[n++] = offset + kr * keyGrid.getWidth() + kc;
                    }
                }
                keys[query] = window;
            }
        }
        return new WindowNeighbourhood(tq, tk, keys);
    }

    /** Window centre along one axis: the key cell containing the query cell's centre. */
    static int centre(int index, int querySize, int keySize) {
        return Math.min((int) Math.floor((index + 0.5) * keySize / querySize), keySize - 1);
    }

    public int queryTokens() {
        return queryTokens;
    }

    public int keyTokens() {
        return keyTokens;
    }

    /** Key token indices visible to {@code queryToken}, in row-major order. */
    public int[] keysOf(int queryToken) {
        return keys[queryToken];
    }

    /** Total number of (query, key) pairs: the size of the attention computed by the windowed kernel. */
    public long pairs() {
        long n = 0;
        for (int[] k : keys) {
            n += k.length;
        }
        return n;
    }

    /**
     * Dense additive mask {@code [Tq, Tk]}: 0 where a query may attend, −1e9 elsewhere (exp underflows to
     * exactly 0 in float and double). Used only by the SameDiff reference; O(Tq·Tk) memory.
     */
    public INDArray additiveMask(DataType dataType) {
        double[][] mask = new double[queryTokens][keyTokens];
        for (int q = 0; q < queryTokens; q++) {
            Arrays.fill(mask[q], -1e9);
            for (int k : keys[q]) {
                mask[q][k] = 0.0;
            }
        }
        return Nd4j.createFromArray(mask).castTo(dataType);
    }
}
