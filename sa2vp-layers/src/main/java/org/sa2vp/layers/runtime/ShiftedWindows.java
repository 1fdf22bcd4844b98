package org.sa2vp.layers.runtime;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.stream.IntStream;

/**
 * The shifted-window layout of a Swin Transformer block on a token map of {@code gridHeight × gridWidth} tokens
 * (row-major, {@code T = H·W}), as torchvision 0.14's {@code shifted_window_attention} lays it out:
 * <ol>
 *   <li>the map is padded at the bottom and right with zero tokens to {@code Hp × Wp}, multiples of the window
 *   side {@code w};</li>
 *   <li>it is rolled by {@code (−shiftHeight, −shiftWidth)} (a cyclic shift up and left), where the shift along an
 *   axis is the requested one unless the padded map is no larger than the window along that axis, then 0;</li>
 *   <li>it is cut into {@code nW = (Hp/w)·(Wp/w)} windows of {@code N = w²} tokens, windows and their tokens in
 *   row-major order: window slot {@code s = window·N + row·w + column}.</li>
 * </ol>
 * Tokens attend within their window, with the learned relative position bias and, when shifted, the mask that keeps
 * tokens from different regions of the rolled map apart (−100, as Microsoft's and torchvision's code add).
 * {@link #partition} gathers a token matrix {@code [B·T, D]} into window slots {@code [B·nW·N, D]} (padding slots
 * are zero rows) and {@link #merge} is its inverse on the real tokens (roll back, crop): each one is the other's
 * backward pass.
 *
 * <p>timm's and Hugging Face's code differ only on maps that are not a multiple of the window or no larger than it:
 * timm rolls before it pads, and timm, Hugging Face and Microsoft's original code shrink the window to the map when
 * the map is no larger than the window (Microsoft's code also needs maps that are multiples of the window). On the
 * standard variants (224 with window 7, 384 with window 12) every stage is a multiple of the window and the last one
 * is a single window, where all four agree.
 */
public final class ShiftedWindows {

    /** The score Microsoft's and torchvision's masks add between tokens of different regions of the rolled map. */
    public static final double MASKED = -100.0;

    private final int gridHeight;
    private final int gridWidth;
    private final int window;
    private final int shiftHeight;
    private final int shiftWidth;
    private final int paddedHeight;
    private final int paddedWidth;
    /** For each window slot of one image {@code [nW·N]}: its token {@code y·W + x}, or −1 for a padding slot. */
    private final int[] slotToken;
    /** For each token of one image {@code [T]}: its window slot. */
    private final int[] tokenSlot;

    private ShiftedWindows(int gridHeight, int gridWidth, int window, int shift) {
        if (gridHeight <= 0 || gridWidth <= 0 || window <= 0 || shift < 0 || shift >= window) {
            throw new IllegalArgumentException("Shifted windows need a positive map and window and a shift in [0, "
                    + "window), got map " + gridHeight + "x" + gridWidth + ", window " + window + ", shift " + shift);
        }
        this.gridHeight = gridHeight;
        this.gridWidth = gridWidth;
        this.window = window;
        this.paddedHeight = roundUp(gridHeight, window);
        this.paddedWidth = roundUp(gridWidth, window);
        this.shiftHeight = window >= paddedHeight ? 0 : shift;
        this.shiftWidth = window >= paddedWidth ? 0 : shift;
        int n = window * window, columns = paddedWidth / window;
        slotToken = new int[windows() * n];
        tokenSlot = new int[gridHeight * gridWidth];
        for (int py = 0; py < paddedHeight; py++) {
            for (int px = 0; px < paddedWidth; px++) {
                // rolled[py][px] = padded[(py + sh) mod Hp][(px + sw) mod Wp]
                int y = (py + shiftHeight) % paddedHeight, x = (px + shiftWidth) % paddedWidth;
                int slot = ((py / window) * columns + px / window) * n + (py % window) * window + px % window;
                boolean real = y < gridHeight && x < gridWidth;
                slotToken[slot] = real ? y * gridWidth + x : -1;
                if (real) {
                    tokenSlot[y * gridWidth + x] = slot;
                }
            }
        }
    }

    /**
     * The layout of a block on a {@code gridHeight × gridWidth} map with windows of side {@code window} and the
     * block's requested shift (0 on even blocks, {@code window/2} on odd ones); the shift along an axis becomes 0
     * where the padded map is a single window.
     */
    public static ShiftedWindows of(int gridHeight, int gridWidth, int window, int shift) {
        return new ShiftedWindows(gridHeight, gridWidth, window, shift);
    }

    private static int roundUp(int size, int multiple) {
        return (size + multiple - 1) / multiple * multiple;
    }

    public int gridHeight() {
        return gridHeight;
    }

    public int gridWidth() {
        return gridWidth;
    }

    public int window() {
        return window;
    }

    /** Shift along the height actually applied (0 where the padded map is one window high). */
    public int shiftHeight() {
        return shiftHeight;
    }

    /** Shift along the width actually applied. */
    public int shiftWidth() {
        return shiftWidth;
    }

    public boolean shifted() {
        return shiftHeight > 0 || shiftWidth > 0;
    }

    public int paddedHeight() {
        return paddedHeight;
    }

    public int paddedWidth() {
        return paddedWidth;
    }

    /** Tokens of the map, {@code T = H·W}. */
    public int tokens() {
        return gridHeight * gridWidth;
    }

    /** Windows per image, {@code nW}. */
    public int windows() {
        return (paddedHeight / window) * (paddedWidth / window);
    }

    /** Tokens per window, {@code N = w²}. */
    public int windowTokens() {
        return window * window;
    }

    /** Token matrix {@code [B·T, D]} → window slots {@code [B·nW·N, D]}, padding slots zero. A new array. */
    public INDArray partition(INDArray tokens, int batch) {
        return gatherRows(tokens, slotToken, tokens(), batch);
    }

    /** Window slots {@code [B·nW·N, D]} → token matrix {@code [B·T, D]} (padding slots dropped). A new array. */
    public INDArray merge(INDArray windowed, int batch) {
        return gatherRows(windowed, tokenSlot, slotToken.length, batch);
    }

    /**
     * With P global tokens in front of every image's map (VPT's prompts on Swin): tokens {@code [B·(P+T), D]} →
     * windows {@code [B·nW·(P+N), D]}, each window its image's P global rows times {@code globalScale}, then its N
     * slots as {@link #partition}. With {@code globalScale} 1 it is the forward gathering; with 1/nW the backward pass
     * of {@link #merge(INDArray, int, int, double)} at 1/nW (the mean over windows). A new array.
     */
    public INDArray partition(INDArray tokens, int batch, int globals, double globalScale) {
        if (globals == 0) {
            return partition(tokens, batch);
        }
        int d = Math.toIntExact(tokens.size(1)), nw = windows();
        INDArray perImage = tokens.reshape('c', batch, globals + tokens(), d);
        INDArray global = perImage.get(NDArrayIndex.all(), NDArrayIndex.interval(0, globals), NDArrayIndex.all())
                .mul(globalScale).reshape('c', batch, 1, globals, d).broadcast(batch, nw, globals, d);
        INDArray map = perImage.get(NDArrayIndex.all(), NDArrayIndex.interval(globals, globals + tokens()),
                NDArrayIndex.all()).dup('c').reshape('c', (long) batch * tokens(), d);
        INDArray slots = partition(map, batch).reshape('c', batch, nw, windowTokens(), d);
        return Nd4j.concat(2, global, slots).reshape('c', (long) batch * nw * (globals + windowTokens()), d);
    }

    /**
     * The inverse direction of {@link #partition(INDArray, int, int, double)}: windows {@code [B·nW·(P+N), D]} →
     * tokens {@code [B·(P+T), D]}, each image's P global rows summed over its windows times {@code globalScale} (1/nW:
     * VPT's mean of the prompt outputs over windows; 1: the backward pass of the gathering), the slots merged as
     * {@link #merge}. A new array.
     */
    public INDArray merge(INDArray windowed, int batch, int globals, double globalScale) {
        if (globals == 0) {
            return merge(windowed, batch);
        }
        int d = Math.toIntExact(windowed.size(1)), nw = windows();
        INDArray perWindow = windowed.reshape('c', batch, nw, globals + windowTokens(), d);
        INDArray global = perWindow.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, globals),
                NDArrayIndex.all()).sum(1).muli(globalScale);                                    // [B, P, D]
        INDArray slots = perWindow.get(NDArrayIndex.all(), NDArrayIndex.all(),
                NDArrayIndex.interval(globals, globals + windowTokens()), NDArrayIndex.all()).dup('c')
                .reshape('c', (long) batch * nw * windowTokens(), d);
        INDArray map = merge(slots, batch).reshape('c', batch, tokens(), d);
        return Nd4j.concat(1, global, map).reshape('c', (long) batch * (globals + tokens()), d);
    }

    /**
     * {@link #additiveScores(INDArray)} with P global tokens first in every window {@code [nW, H, P+N, P+N]}: zero
     * between a global token and any other (no position bias, never masked), the window's scores among its slots.
     */
    public INDArray additiveScores(INDArray table, int globals) {
        INDArray windowScores = additiveScores(table);
        if (globals == 0) {
            return windowScores;
        }
        int n = windowTokens();
        INDArray out = Nd4j.zeros(table.dataType(), windows(), table.size(1), globals + n, globals + n);
        out.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(globals, globals + n),
                NDArrayIndex.interval(globals, globals + n)).assign(windowScores);
        return out;
    }

    /**
     * {@code out[b·m + k] = source[b·perImage + rows[k]]} for every image b, a zero row where {@code rows[k] < 0}.
     * Row by row on the buffers, in parallel over images: one read and one write of every element.
     */
    private static INDArray gatherRows(INDArray source, int[] rows, int perImage, int batch) {
        if (source.rank() != 2 || source.size(0) != (long) perImage * batch) {
            throw new IllegalArgumentException("Expected a [" + batch + "·" + perImage + ", D] matrix, got "
                    + source.shapeInfoToString());
        }
        int d = Math.toIntExact(source.size(1)), m = rows.length;
        BufferAccess in = BufferAccess.of(source);
        INDArray out = Nd4j.createUninitialized(source.dataType(), (long) batch * m, d);
        BufferAccess dst = new BufferAccess(out);
        IntStream images = IntStream.range(0, batch);
        (batch > 1 ? images.parallel() : images).forEach(b -> {
            double[] row = new double[d];
            double[] zero = new double[d];
            float[] scratch = BufferAccess.scratch(source.dataType(), d);
            for (int k = 0; k < m; k++) {
                if (rows[k] >= 0) {
                    in.read(((long) b * perImage + rows[k]) * d, row, 0, d, scratch);
                }
                dst.write(((long) b * m + k) * d, rows[k] >= 0 ? row : zero, 0, d, scratch);
            }
        });
        return out;
    }

    /**
     * The additive scores of every (window, head) pair {@code [nW, H, N, N]}: the relative position bias of the head
     * plus, when shifted, the window's region mask. {@code table [(2w−1)², H]}.
     */
    public INDArray additiveScores(INDArray table) {
        int heads = (int) table.size(1), pairs = windowTokens() * windowTokens();
        double[] bias = relativeBiasValues(table, window);
        double[] mask = shifted() ? shiftMaskValues() : null;
        double[] out = new double[windows() * heads * pairs];
        for (int w = 0; w < windows(); w++) {
            for (int h = 0; h < heads; h++) {
                for (int p = 0; p < pairs; p++) {
                    out[(w * heads + h) * pairs + p] = bias[h * pairs + p] + (mask == null ? 0 : mask[w * pairs + p]);
                }
            }
        }
        return Nd4j.create(out, new long[]{windows(), heads, windowTokens(), windowTokens()}, table.dataType());
    }

    /**
     * The region mask {@code [nW, N, N]}: 0 where two tokens of a window come from the same region of the rolled
     * map, {@link #MASKED} otherwise. Along a shifted axis of padded size P the regions are {@code [0, P−w)},
     * {@code [P−w, P−s)} and {@code [P−s, P)}; an unshifted axis is one region.
     */
    public INDArray shiftMask(DataType type) {
        return Nd4j.create(shiftMaskValues(), new long[]{windows(), windowTokens(), windowTokens()}, type);
    }

    private double[] shiftMaskValues() {
        int n = windowTokens(), columns = paddedWidth / window;
        double[] mask = new double[windows() * n * n];
        int[] label = new int[n];
        for (int w = 0; w < windows(); w++) {
            int top = (w / columns) * window, left = (w % columns) * window;
            for (int i = 0; i < n; i++) {
                label[i] = region(top + i / window, paddedHeight, shiftHeight) * 3
                        + region(left + i % window, paddedWidth, shiftWidth);
            }
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    mask[(w * n + i) * n + j] = label[i] == label[j] ? 0.0 : MASKED;
                }
            }
        }
        return mask;
    }

    private int region(int position, int padded, int shift) {
        if (shift == 0 || position < padded - window) {
            return 0;
        }
        return position < padded - shift ? 1 : 2;
    }

    /**
     * The fixed index into the bias table of every (query, key) pair of a window {@code [N·N]}: for tokens at
     * {@code (yi, xi)} and {@code (yj, xj)}, {@code (yi − yj + w − 1)·(2w − 1) + (xi − xj + w − 1)}.
     */
    public static int[] relativePositionIndex(int window) {
        int n = window * window;
        int[] index = new int[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                index[i * n + j] = (i / window - j / window + window - 1) * (2 * window - 1)
                        + (i % window - j % window + window - 1);
            }
        }
        return index;
    }

    /** The bias of every head {@code [H, N, N]} from the learned table {@code [(2w−1)², H]}. */
    public static INDArray relativeBias(INDArray table, int window) {
        int n = window * window;
        return Nd4j.create(relativeBiasValues(table, window), new long[]{table.size(1), n, n}, table.dataType());
    }

    private static double[] relativeBiasValues(INDArray table, int window) {
        int[] index = relativePositionIndex(window);
        int heads = (int) table.size(1);
        double[] t = table.dup('c').data().asDouble();
        double[] bias = new double[heads * index.length];
        for (int h = 0; h < heads; h++) {
            for (int p = 0; p < index.length; p++) {
                bias[h * index.length + p] = t[index[p] * heads + h];
            }
        }
        return bias;
    }

    /** The backward pass of {@link #relativeBias}: adds the bias gradient {@code [H, N, N]} into {@code dTable}. */
    public static void accumulateTableGradient(INDArray dBias, INDArray dTable, int window) {
        int[] index = relativePositionIndex(window);
        int heads = (int) dTable.size(1);
        double[] g = dBias.dup('c').data().asDouble();
        double[] sums = new double[(int) dTable.length()];
        for (int h = 0; h < heads; h++) {
            for (int p = 0; p < index.length; p++) {
                sums[index[p] * heads + h] += g[h * index.length + p];
            }
        }
        dTable.addi(Nd4j.create(sums, dTable.shape(), dTable.dataType()));
    }
}
