package org.sa2vp.zoo.minivtab;

/**
 * Pixel operations of the mini-VTAB generator on row-major float planes in [0, 1], all in plain Java arithmetic so
 * that a seed gives the same bytes on every machine. Pixel {@code (x, y)} has its centre at {@code (x + 0.5, y + 0.5)}.
 */
final class Render {

    /** Sub-samples per axis when drawing a glyph, so strokes thinner than a canvas pixel are averaged, not aliased. */
    private static final int SUPERSAMPLING = 3;

    private Render() {
    }

    /**
     * Bilinear value at continuous position {@code (x, y)} of a {@code height × width} plane (pixel centres at
     * {@code i + 0.5}); outside the plane it continues the nearest edge pixel when {@code clampEdges}, else is 0.
     */
    static float bilinear(float[] plane, int height, int width, double x, double y, boolean clampEdges) {
        double px = x - 0.5, py = y - 0.5;
        int x0 = (int) Math.floor(px), y0 = (int) Math.floor(py);
        float fx = (float) (px - x0), fy = (float) (py - y0);
        float top = pixel(plane, height, width, x0, y0, clampEdges) * (1 - fx)
                + pixel(plane, height, width, x0 + 1, y0, clampEdges) * fx;
        float bottom = pixel(plane, height, width, x0, y0 + 1, clampEdges) * (1 - fx)
                + pixel(plane, height, width, x0 + 1, y0 + 1, clampEdges) * fx;
        return top * (1 - fy) + bottom * fy;
    }

    private static float pixel(float[] plane, int height, int width, int x, int y, boolean clampEdges) {
        if (clampEdges) {
            x = Math.max(0, Math.min(width - 1, x));
            y = Math.max(0, Math.min(height - 1, y));
        } else if (x < 0 || y < 0 || x >= width || y >= height) {
            return 0;
        }
        return plane[y * width + x];
    }

    /** A {@code size × size} plane resized bilinearly (half-pixel centres, edges clamped) to {@code target²}. */
    static float[] upscale(float[] plane, int size, int target) {
        float[] out = new float[target * target];
        double step = (double) size / target;
        for (int y = 0; y < target; y++) {
            for (int x = 0; x < target; x++) {
                out[y * target + x] = bilinear(plane, size, size, (x + 0.5) * step, (y + 0.5) * step, true);
            }
        }
        return out;
    }

    /**
     * A {@code size × size} crop of {@code source} centred at {@code (centreX, centreY)}, rotated by {@code angle}
     * radians and sampling {@code scale} source pixels per output pixel (bilinear); the caller keeps the footprint,
     * radius {@code size / 2 · √2 · scale}, inside the source.
     */
    static float[] rotatedCrop(float[] source, int sourceHeight, int sourceWidth, double centreX, double centreY,
                               double angle, double scale, int size) {
        float[] out = new float[size * size];
        double cos = Math.cos(angle) * scale, sin = Math.sin(angle) * scale;
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                double u = x + 0.5 - size / 2.0, v = y + 0.5 - size / 2.0;
                out[y * size + x] = bilinear(source, sourceHeight, sourceWidth, centreX + cos * u - sin * v,
                        centreY + sin * u + cos * v, false);
            }
        }
        return out;
    }

    /**
     * Draws a square glyph (white ink on black, {@code glyphSize²}) onto a {@code canvasSize²} canvas, shown
     * {@code size} canvas pixels wide, centred at {@code (centreX, centreY)} and turned {@code angle} radians
     * counter-clockwise; overlapping ink keeps the brighter value.
     */
    static void stamp(float[] canvas, int canvasSize, float[] glyph, int glyphSize, double centreX, double centreY,
                      double size, double angle) {
        double reach = size / 2 * Math.sqrt(2) + 1;
        int fromX = Math.max(0, (int) Math.floor(centreX - reach));
        int toX = Math.min(canvasSize, (int) Math.ceil(centreX + reach));
        int fromY = Math.max(0, (int) Math.floor(centreY - reach));
        int toY = Math.min(canvasSize, (int) Math.ceil(centreY + reach));
        double toGlyph = glyphSize / size, cos = Math.cos(angle), sin = Math.sin(angle);
        for (int y = fromY; y < toY; y++) {
            for (int x = fromX; x < toX; x++) {
                float sum = 0;
                for (int sy = 0; sy < SUPERSAMPLING; sy++) {
                    for (int sx = 0; sx < SUPERSAMPLING; sx++) {
                        double dx = x + (sx + 0.5) / SUPERSAMPLING - centreX;
                        double dy = y + (sy + 0.5) / SUPERSAMPLING - centreY;
                        // Inverse rotation (screen y points down, so counter-clockwise on screen is −angle in maths).
                        double gx = (cos * dx - sin * dy) * toGlyph + glyphSize / 2.0;
                        double gy = (sin * dx + cos * dy) * toGlyph + glyphSize / 2.0;
                        sum += bilinear(glyph, glyphSize, glyphSize, gx, gy, false);
                    }
                }
                int i = y * canvasSize + x;
                canvas[i] = Math.max(canvas[i], sum / (SUPERSAMPLING * SUPERSAMPLING));
            }
        }
    }
}
