package org.sa2vp.cli;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.model.PromptSimilarity;
import org.sa2vp.train.Charts;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;

/**
 * The paper's Figure 5 as a PNG: for each image, the input with the query patch outlined, next to the cosine
 * similarity of that image token with every prompt token (blue −1, white 0, red +1), the query's cell outlined.
 */
final class SimilarityFigure {

    private static final int CELL = 160;
    private static final int GAP = 20;

    private SimilarityFigure() {
    }

    /**
     * @param pixels images {@code [N, C, H, W]} in [0, 1] (grey or RGB)
     * @param maps   one map per image
     */
    static void write(Path file, INDArray pixels, PromptSimilarity.Map2d[] maps, String title) {
        int n = maps.length;
        int width = GAP + n * (2 * CELL + 2 * GAP), height = 70 + CELL + 60;
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = Charts.canvas(out, title, 15, 22);
        try {
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            for (int i = 0; i < n; i++) {
                int x0 = GAP + i * (2 * CELL + 2 * GAP), y0 = 50;
                PromptSimilarity.Map2d map = maps[i];
                int gh = map.similarity().length, gw = map.similarity()[0].length;
                drawImage(g, pixels.slice(i), x0, y0);
                drawMap(g, map, x0 + CELL + GAP, y0);
                g.setColor(new Color(0, 160, 0));
                g.setStroke(new BasicStroke(2.5f));
                for (int panel = 0; panel < 2; panel++) {
                    int px = x0 + panel * (CELL + GAP);
                    g.drawRect(px + map.queryColumn() * CELL / gw, y0 + map.queryRow() * CELL / gh, CELL / gw,
                            CELL / gh);
                }
                g.setColor(Color.BLACK);
                g.drawString("image, query token", x0, y0 + CELL + 18);
                g.drawString("cos(query, prompt tokens)", x0 + CELL + GAP, y0 + CELL + 18);
            }
            g.drawString("colour: blue −1, white 0, red +1; green square: the query token and its position in the "
                    + "prompt map", GAP, height - 12);
        } finally {
            g.dispose();
        }
        Charts.writePng(file, out);
    }

    /** {@code [C, H, W]} in [0, 1], nearest-neighbour upscaled to CELL × CELL. */
    private static void drawImage(Graphics2D g, INDArray image, int x0, int y0) {
        int c = (int) image.size(0), h = (int) image.size(1), w = (int) image.size(2);
        for (int y = 0; y < CELL; y++) {
            for (int x = 0; x < CELL; x++) {
                int sy = y * h / CELL, sx = x * w / CELL;
                int r = level(image.getDouble(0, sy, sx));
                int gr = c == 3 ? level(image.getDouble(1, sy, sx)) : r;
                int b = c == 3 ? level(image.getDouble(2, sy, sx)) : r;
                g.setColor(new Color(r, gr, b));
                g.fillRect(x0 + x, y0 + y, 1, 1);
            }
        }
    }

    private static void drawMap(Graphics2D g, PromptSimilarity.Map2d map, int x0, int y0) {
        double[][] s = map.similarity();
        int gh = s.length, gw = s[0].length;
        for (int r = 0; r < gh; r++) {
            for (int c = 0; c < gw; c++) {
                g.setColor(diverging(s[r][c]));
                g.fillRect(x0 + c * CELL / gw, y0 + r * CELL / gh, (c + 1) * CELL / gw - c * CELL / gw,
                        (r + 1) * CELL / gh - r * CELL / gh);
            }
        }
    }

    private static int level(double v) {
        return (int) Math.round(255 * Math.max(0, Math.min(1, v)));
    }

    /** −1 blue, 0 white, +1 red. */
    static Color diverging(double v) {
        double t = Math.max(-1, Math.min(1, v));
        int fade = (int) Math.round(255 * (1 - Math.abs(t)));
        return t >= 0 ? new Color(255, fade, fade) : new Color(fade, fade, 255);
    }
}
