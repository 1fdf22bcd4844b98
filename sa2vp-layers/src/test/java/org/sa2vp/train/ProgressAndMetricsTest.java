package org.sa2vp.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The console progress bar (terminal and plain modes), metrics.csv formatting and the curves PNG. */
class ProgressAndMetricsTest {

    @Test
    void terminalModeRedrawsOneLineAndPlainModePrintsEpochLines() {
        ByteArrayOutputStream terminal = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintStream(terminal, true, StandardCharsets.UTF_8), true);
        bar.iteration(1, 10, 1, 4, 1.5, 1e-3, 39);
        bar.iteration(1, 10, 2, 4, 1.25, 2e-3, 38);
        bar.line("epoch 1/10  train loss 1.3");
        String t = terminal.toString(StandardCharsets.UTF_8);
        assertTrue(t.startsWith("\repoch 1/10 [######..................] 1/4 loss 1.5000 lr 1.00e-03 "), t);
        assertTrue(t.contains("\repoch 1/10 [############............] 2/4 loss 1.2500"), t);
        assertTrue(t.contains(" ETA "), t);
        assertFalse(t.substring(0, t.indexOf("epoch 1/10  train")).contains("\n"), "one redrawn line: " + t);
        assertTrue(t.endsWith("\repoch 1/10  train loss 1.3" + System.lineSeparator()), t);

        ByteArrayOutputStream plain = new ByteArrayOutputStream();
        ProgressBar log = new ProgressBar(new PrintStream(plain, true, StandardCharsets.UTF_8), false);
        log.iteration(1, 10, 1, 4, 1.5, 1e-3, 39);
        log.line("epoch 1/10  train loss 1.3");
        String p = plain.toString(StandardCharsets.UTF_8);
        assertFalse(p.contains("\r"), p);
        assertEquals("epoch 1/10  train loss 1.3" + System.lineSeparator(), p, "no per-iteration line within 30 s");
    }

    @Test
    void durationsAndRates() {
        assertEquals("0:59", ProgressBar.duration(59.4));
        assertEquals("1:02:03", ProgressBar.duration(3723));
        assertEquals("-", ProgressBar.duration(Double.NaN));
        assertEquals("2.5 s/it", ProgressBar.rate(2.5));
        assertEquals("4.0 it/s", ProgressBar.rate(0.25));
    }

    @Test
    void csvAndPlot(@TempDir Path dir) throws Exception {
        List<EpochRecord> history = List.of(new EpochRecord(1, 15, 1e-4, 2.3, 2.2, 0.125, 61.25),
                new EpochRecord(2, 30, 2e-4, 1.9, null, null, 60.0),
                new EpochRecord(3, 45, 3e-4, 1.5, 1.4, 0.5, 59.0));
        MetricsCsv.write(dir.resolve("m.csv"), history);
        assertEquals(List.of(MetricsCsv.HEADER, "1,15,1.000000e-04,2.300000,2.200000,0.125000,61.3",
                "2,30,2.000000e-04,1.900000,,,60.0", "3,45,3.000000e-04,1.500000,1.400000,0.500000,59.0"),
                Files.readAllLines(dir.resolve("m.csv")));

        Path png = dir.resolve("curves.png");
        MetricsPlot.write(png, history, "test run");
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(MetricsPlot.WIDTH, image.getWidth());
        // Series colours appear: train loss (blue), validation loss (orange), accuracy (green), best marker (red).
        boolean[] seen = new boolean[4];
        int[] colours = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xff0000};
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y) & 0xffffff;
                for (int c = 0; c < colours.length; c++) {
                    seen[c] |= rgb == colours[c];
                }
            }
        }
        assertArrayEquals(new boolean[]{true, true, true, true}, seen);
        MetricsPlot.render(List.of(), "empty");
        MetricsPlot.render(List.of(new EpochRecord(1, 1, 0, 1.0, null, null, 1)), "no validation");
    }

    @Test
    void ticksCoverTheRangeWithRoundSteps() {
        assertArrayEquals(new double[]{0, 0.5, 1, 1.5, 2, 2.5}, MetricsPlot.Ticks.of(0.1, 2.3, 6, false), 1e-12);
        double[] epochs = MetricsPlot.Ticks.of(1, 100, 8, true);
        assertEquals(0, epochs[0], 0);
        assertEquals(100, epochs[epochs.length - 1], 0);
        assertEquals("0.5", MetricsPlot.Ticks.format(0.5, new double[]{0, 0.5}));
        assertEquals("25", MetricsPlot.Ticks.format(25, new double[]{0, 25}));
        assertEquals("0.25", MetricsPlot.Ticks.format(0.25, new double[]{0, 0.25}));
    }
}
