package org.sa2vp.layers.runtime;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * Which key tokens each query token attends to in the spatially aligned cross attention (Eq. 2).
 *
 * <p>Token layout of both maps: an optional class token at index 0, then the grid in row-major order.
 * In local mode (the layers' {@code AttentionMode.LOCAL}) a query patch at (r, c) of an {@code Hq×Wq} grid looks at the key
 * patches inside a {@code window×window} square centred at
 * {@code (min(⌊(r+½)·Hk/Hq⌋, Hk−1), min(⌊(c+½)·Wk/Wq⌋, Wk−1))} (the same position when both grids are equal),
 * clipped at the border exactly like the authors' code: 4/6/9 keys for a 3×3 window, no padding tokens,
 * and never the key class token. A query class token attends to every key token. In
 * global mode ({@code AttentionMode.GLOBAL}) every query sees every key.
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

    /**
     * The keys of every query of a {@code queryHeight × queryWidth} grid over a {@code keyHeight × keyWidth} grid:
     * the clipped {@code windowSize × windowSize} window around the aligned position, or every key when
     * {@code global}.
     */
    public static WindowNeighbourhood of(int queryHeight, int queryWidth, int keyHeight, int keyWidth,
                                         boolean classToken, int windowSize, boolean global) {
        int offset = classToken ? 1 : 0;
        int tq = queryHeight * queryWidth + offset;
        int tk = keyHeight * keyWidth + offset;
        int[][] keys = new int[tq][];
        int[] all = new int[tk];
        Arrays.setAll(all, i -> i);
        if (classToken) {
            keys[0] = all;
        }
        int half = windowSize / 2;
        for (int r = 0; r < queryHeight; r++) {
            for (int c = 0; c < queryWidth; c++) {
                int query = offset + r * queryWidth + c;
                if (global) {
                    keys[query] = all;
                    continue;
                }
                int centreRow = centre(r, queryHeight, keyHeight);
                int centreCol = centre(c, queryWidth, keyWidth);
                int r0 = Math.max(0, centreRow - half), r1 = Math.min(keyHeight - 1, centreRow + half);
                int c0 = Math.max(0, centreCol - half), c1 = Math.min(keyWidth - 1, centreCol + half);
                int[] window = new int[(r1 - r0 + 1) * (c1 - c0 + 1)];
                int n = 0;
                for (int kr = r0; kr <= r1; kr++) {
                    for (int kc = c0; kc <= c1; kc++) {
                        window[n++] = offset + kr * keyWidth + kc;
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
