package org.sa2vp.backbone.vit;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Bilinear resize of a ViT position embedding to another patch grid, keeping the class-token row. Needed when a
 * checkpoint trained at one image size is used at another.
 */
public final class PositionEmbeddingResize {

    /** Sample alignment of the bilinear interpolation. */
    public enum Alignment {
        /**
         * Corner samples map onto corner samples: {@code scipy.ndimage.zoom(order=1)}, what Google's and the
         * VPT/SA2VP loaders use, and PyTorch's {@code interpolate(align_corners=True)}. The default.
         */
        ALIGN_CORNERS,
        /** Pixel-area alignment: PyTorch's {@code interpolate(mode='bilinear', align_corners=False)}. */
        HALF_PIXEL
    }

    private PositionEmbeddingResize() {
    }

    /**
     * @param positions  {@code [T, D]} with {@code T = (classToken ? 1 : 0) + fromH·fromW}
     * @return {@code [(classToken ? 1 : 0) + toH·toW, D]}
     */
    public static INDArray resize(INDArray positions, boolean classToken, int fromH, int fromW, int toH, int toW,
                                  Alignment alignment) {
        int prefix = classToken ? 1 : 0;
        long d = positions.size(1);
        if (positions.size(0) != prefix + (long) fromH * fromW) {
            throw new IllegalArgumentException("position embedding has " + positions.size(0) + " rows, expected "
                    + (prefix + fromH * fromW) + " for a " + fromH + "x" + fromW + " grid"
                    + (classToken ? " plus the class token" : ""));
        }
        if (fromH == toH && fromW == toW) {
            return positions.dup();
        }
        float[][] grid = positions.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).toFloatMatrix();
        float[][] out = new float[prefix + toH * toW][];
        if (classToken) {
            out[0] = grid[0].clone();
        }
        for (int y = 0; y < toH; y++) {
            double sy = source(y, fromH, toH, alignment);
            int y0 = (int) Math.floor(sy), y1 = Math.min(y0 + 1, fromH - 1);
            double wy = sy - y0;
            for (int x = 0; x < toW; x++) {
                double sx = source(x, fromW, toW, alignment);
                int x0 = (int) Math.floor(sx), x1 = Math.min(x0 + 1, fromW - 1);
                double wx = sx - x0;
                float[] row = new float[(int) d];
                float[] a = grid[prefix + y0 * fromW + x0], b = grid[prefix + y0 * fromW + x1];
                float[] c = grid[prefix + y1 * fromW + x0], e = grid[prefix + y1 * fromW + x1];
                for (int k = 0; k < d; k++) {
                    row[k] = (float) ((1 - wy) * ((1 - wx) * a[k] + wx * b[k]) + wy * ((1 - wx) * c[k] + wx * e[k]));
                }
                out[prefix + y * toW + x] = row;
            }
        }
        return Nd4j.createFromArray(out).castTo(positions.dataType());
    }

    /** Source coordinate of output sample {@code i}, clamped to the input grid. */
    private static double source(int i, int from, int to, Alignment alignment) {
        double s = alignment == Alignment.ALIGN_CORNERS
                ? (to == 1 ? 0 : i * (from - 1.0) / (to - 1.0))
                : (i + 0.5) * from / (double) to - 0.5;
        return Math.min(Math.max(s, 0), from - 1);
    }
}
