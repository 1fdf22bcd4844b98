package org.sa2vp.train;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The training curves as a PNG drawn with Java2D on a headless {@link BufferedImage}: left panel training and
 * validation loss per epoch, right panel validation top-1 accuracy (%) with the best epoch marked. Axes with
 * ticks and labels, grid lines, legends. No display is needed.
 */
public final class MetricsPlot {

    public static final int WIDTH = 1200;
    public static final int HEIGHT = 480;

    private static final Color TRAIN = new Color(31, 119, 180);
    private static final Color VAL = new Color(255, 127, 14);
    private static final Color ACCURACY = new Color(44, 160, 44);
    private static final Color GRID = new Color(225, 225, 225);

    private MetricsPlot() {
    }

    /** A named polyline in data coordinates. */
    private record Series(String name, Color color, List<double[]> points) {
    }

    /** Draws {@code history} and writes it atomically to {@code file}. */
    public static void write(Path file, List<EpochRecord> history, String title) {
        Charts.writePng(file, render(history, title));
    }

    public static BufferedImage render(List<EpochRecord> history, String title) {
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = Charts.canvas(image, title, 16, 24);
        try {

            List<double[]> train = new ArrayList<>();
            List<double[]> valLoss = new ArrayList<>();
            List<double[]> valAccuracy = new ArrayList<>();
            double[] best = null;
            for (EpochRecord r : history) {
                train.add(new double[]{r.getEpoch(), r.getTrainLoss()});
                if (r.getValLoss() != null) {
                    valLoss.add(new double[]{r.getEpoch(), r.getValLoss()});
                }
                if (r.getValAccuracy() != null) {
                    double[] p = {r.getEpoch(), 100 * r.getValAccuracy()};
                    valAccuracy.add(p);
                    if (best == null || p[1] > best[1]) {
                        best = p;
                    }
                }
            }
            int half = WIDTH / 2;
            panel(g, 0, 40, half, HEIGHT - 40, "Loss", "epoch", "loss  λ·CE(image) + (1−λ)·CE(prompt)",
                    List.of(new Series("train", TRAIN, train), new Series("validation", VAL, valLoss)), null, false);
            panel(g, half, 40, half, HEIGHT - 40, "Validation accuracy", "epoch", "top-1 accuracy (%)",
                    List.of(new Series("validation (image logits)", ACCURACY, valAccuracy)), best, true);
        } finally {
            g.dispose();
        }
        return image;
    }

    private static void panel(Graphics2D g, int x0, int y0, int width, int height, String title, String xLabel,
                              String yLabel, List<Series> series, double[] marked, boolean legendAtBottom) {
        int left = x0 + 80, right = x0 + width - 25, top = y0 + 30, bottom = y0 + height - 55;
        double xMin = Double.POSITIVE_INFINITY, xMax = Double.NEGATIVE_INFINITY;
        double yMin = Double.POSITIVE_INFINITY, yMax = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (double[] p : s.points()) {
                if (Double.isFinite(p[1])) {
                    xMin = Math.min(xMin, p[0]);
                    xMax = Math.max(xMax, p[0]);
                    yMin = Math.min(yMin, p[1]);
                    yMax = Math.max(yMax, p[1]);
                }
            }
        }
        if (xMin > xMax) {
            xMin = 1;
            xMax = 2;
            yMin = 0;
            yMax = 1;
        }
        double[] xTicks = Ticks.of(Math.min(xMin, 1), Math.max(xMax, xMin + 1), 8, true);
        double[] yTicks = Ticks.of(yMin, yMax > yMin ? yMax : yMin + 1, 6, false);
        double xa = xTicks[0], xb = xTicks[xTicks.length - 1], ya = yTicks[0], yb = yTicks[yTicks.length - 1];
        Axis ax = new Axis(left, right, top, bottom, xa, xb, ya, yb);

        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        FontMetrics fm = g.getFontMetrics();
        g.setColor(Color.BLACK);
        g.drawString(title, (left + right - fm.stringWidth(title)) / 2, top - 10);

        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        fm = g.getFontMetrics();
        g.setStroke(new BasicStroke(1f));
        for (double t : yTicks) {
            int y = ax.y(t);
            g.setColor(GRID);
            g.drawLine(left, y, right, y);
            g.setColor(Color.BLACK);
            g.drawLine(left - 5, y, left, y);
            String label = Ticks.format(t, yTicks);
            g.drawString(label, left - 8 - fm.stringWidth(label), y + fm.getAscent() / 2 - 1);
        }
        for (double t : xTicks) {
            int x = ax.x(t);
            g.setColor(GRID);
            g.drawLine(x, top, x, bottom);
            g.setColor(Color.BLACK);
            g.drawLine(x, bottom, x, bottom + 5);
            String label = Ticks.format(t, xTicks);
            g.drawString(label, x - fm.stringWidth(label) / 2, bottom + 8 + fm.getAscent());
        }
        g.setColor(Color.BLACK);
        g.drawRect(left, top, right - left, bottom - top);
        g.drawString(xLabel, (left + right - fm.stringWidth(xLabel)) / 2, bottom + 40);
        AffineTransform saved = g.getTransform();
        g.rotate(-Math.PI / 2);
        g.drawString(yLabel, -(top + bottom + fm.stringWidth(yLabel)) / 2, x0 + 20);
        g.setTransform(saved);

        for (Series s : series) {
            g.setColor(s.color());
            g.setStroke(new BasicStroke(2f));
            Path2D.Double line = new Path2D.Double();
            boolean started = false;
            for (double[] p : s.points()) {
                if (!Double.isFinite(p[1])) {
                    continue;
                }
                if (started) {
                    line.lineTo(ax.x(p[0]), ax.y(p[1]));
                } else {
                    line.moveTo(ax.x(p[0]), ax.y(p[1]));
                    started = true;
                }
            }
            g.draw(line);
            for (double[] p : s.points()) {
                if (Double.isFinite(p[1])) {
                    g.fill(new Ellipse2D.Double(ax.x(p[0]) - 3, ax.y(p[1]) - 3, 6, 6));
                }
            }
        }
        List<String> names = new ArrayList<>();
        List<Color> colors = new ArrayList<>();
        for (Series s : series) {
            names.add(s.name());
            colors.add(s.color());
        }
        if (marked != null) {
            g.setColor(Color.RED);
            g.setStroke(new BasicStroke(2f));
            g.draw(new Ellipse2D.Double(ax.x(marked[0]) - 7, ax.y(marked[1]) - 7, 14, 14));
            names.add(String.format(Locale.ROOT, "best %.2f%% (epoch %d)", marked[1], (int) marked[0]));
            colors.add(Color.RED);
        }
        legend(g, right, legendAtBottom ? bottom : top, legendAtBottom, names, colors);
    }

    /** A framed legend in the right corner: below the edge {@code y} (top), or above it ({@code atBottom}). */
    private static void legend(Graphics2D g, int right, int y, boolean atBottom, List<String> names,
                               List<Color> colors) {
        FontMetrics fm = g.getFontMetrics();
        int w = 0;
        for (String n : names) {
            w = Math.max(w, fm.stringWidth(n));
        }
        int boxW = w + 40, lineH = fm.getHeight() + 2, boxH = names.size() * lineH + 8;
        int bx = right - boxW - 8, by = atBottom ? y - boxH - 8 : y + 8;
        g.setColor(new Color(255, 255, 255, 230));
        g.fillRect(bx, by, boxW, boxH);
        g.setColor(Color.GRAY);
        g.setStroke(new BasicStroke(1f));
        g.drawRect(bx, by, boxW, boxH);
        for (int i = 0; i < names.size(); i++) {
            int line = by + 4 + i * lineH + lineH / 2;
            g.setColor(colors.get(i));
            g.setStroke(new BasicStroke(2f));
            g.drawLine(bx + 6, line, bx + 26, line);
            g.setColor(Color.BLACK);
            g.drawString(names.get(i), bx + 32, line + fm.getAscent() / 2 - 1);
        }
    }

    /** Data → pixel mapping of one panel. */
    private record Axis(int left, int right, int top, int bottom, double xa, double xb, double ya, double yb) {
        int x(double v) {
            return (int) Math.round(left + (v - xa) / (xb - xa) * (right - left));
        }

        int y(double v) {
            return (int) Math.round(bottom - (v - ya) / (yb - ya) * (bottom - top));
        }
    }

    /** "Nice" tick values (1, 2, 2.5, 5 × 10^k steps) covering a range. */
    static final class Ticks {
        private Ticks() {
        }

        static double[] of(double min, double max, int target, boolean integers) {
            double span = max - min;
            double raw = span / Math.max(1, target);
            double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
            double step = magnitude;
            for (double m : new double[]{1, 2, 2.5, 5, 10}) {
                step = m * magnitude;
                if (step >= raw) {
                    break;
                }
            }
            if (integers) {
                step = Math.max(1, Math.ceil(step));
            }
            double start = Math.floor(min / step) * step;
            double end = Math.ceil(max / step) * step;
            int n = (int) Math.round((end - start) / step) + 1;
            double[] ticks = new double[Math.max(n, 2)];
            for (int i = 0; i < ticks.length; i++) {
                ticks[i] = start + i * step;
            }
            return ticks;
        }

        static String format(double v, double[] ticks) {
            double step = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
            int decimals = Math.max(0, (int) Math.ceil(-Math.log10(step) + 1e-9));
            if (step * Math.pow(10, decimals) % 1 > 1e-6) {
                decimals++;
            }
            return String.format(Locale.ROOT, "%." + decimals + "f", v);
        }
    }
}
