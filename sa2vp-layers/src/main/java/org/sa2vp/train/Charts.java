package org.sa2vp.train;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

/** What every PNG this project draws shares: a headless white canvas with a centred title, written atomically. */
public final class Charts {

    static {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    private Charts() {
    }

    /**
     * A white {@code width × height} RGB image with anti-aliasing on and {@code title} centred at the top (bold 16 pt,
     * baseline at y = {@code titleBaseline}); the caller draws the rest with the returned graphics and disposes it.
     */
    public static Graphics2D canvas(BufferedImage image, String title, int titleFontSize, int titleBaseline) {
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, image.getWidth(), image.getHeight());
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, titleFontSize));
        FontMetrics fm = g.getFontMetrics();
        g.drawString(title, (image.getWidth() - fm.stringWidth(title)) / 2, titleBaseline);
        return g;
    }

    /** Writes {@code image} as PNG under a temporary name, then renames it to {@code file}. */
    public static void writePng(Path file, BufferedImage image) {
        AtomicFiles.write(file, temp -> {
            if (!ImageIO.write(image, "png", temp.toFile())) {
                throw new IOException("no PNG writer available");
            }
        });
    }
}
