package org.sa2vp.zoo.minivtab;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * The bundled source images the mini-VTAB tasks are cut from (resources next to this class; origins and licences in
 * {@code docs/DATA.md}), decoded to float pixels in [0, 1]. Every image here is row-major; colour images are
 * channel-major {@code [3, H, W]}.
 */
final class Sources {

    /** One source image with its class. */
    record Labelled(float[] pixels, int label) {
    }

    /** Images of one classification source and the names of its classes in label order. */
    record Classified(List<Labelled> images, List<String> classNames) {
    }

    static final int GLYPH_SIZE = 20;
    static final int GLYPHS_PER_ROW = 100;
    static final int GLYPH_ROWS_PER_DIGIT = 5;
    static final int TWEMOJI_TILE = 32;
    static final int OPTDIGITS_SIZE = 8;
    static final List<String> TEXTURES = List.of("brick", "grass", "gravel", "stars", "retina");
    static final int TEXTURE_SIZE = 512;

    private Sources() {
    }

    /** UCI optdigits: 1797 images {@code [8, 8]} (ink = 1) and their digits. */
    static Classified optdigits() {
        List<Labelled> images = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(
                new GZIPInputStream(open("optdigits.csv.gz")), StandardCharsets.US_ASCII))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                String[] fields = line.split(",");
                float[] pixels = new float[OPTDIGITS_SIZE * OPTDIGITS_SIZE];
                for (int i = 0; i < pixels.length; i++) {
                    pixels[i] = Integer.parseInt(fields[i].strip()) / 16f;
                }
                images.add(new Labelled(pixels, Integer.parseInt(fields[pixels.length].strip())));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("optdigits.csv.gz: " + e.getMessage(), e);
        }
        return new Classified(images, List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"));
    }

    /** The base Twemoji tiles {@code [3, 32, 32]} (on white) labelled by their Unicode category, in sheet order. */
    static Classified twemoji() {
        BufferedImage sheet = image("twemoji-32.png");
        Map<String, Integer> categories = new LinkedHashMap<>();
        List<Labelled> images = new ArrayList<>();
        int tilesPerRow = sheet.getWidth() / TWEMOJI_TILE;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(open("twemoji-32.tsv"),
                StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.startsWith("#") || line.isBlank()) {
                    continue;
                }
                String[] fields = line.split("\t");
                int tile = Integer.parseInt(fields[0]);
                int label = categories.computeIfAbsent(fields[1], name -> categories.size());
                images.add(new Labelled(rgbTile(sheet, (tile % tilesPerRow) * TWEMOJI_TILE,
                        (tile / tilesPerRow) * TWEMOJI_TILE), label));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("twemoji-32.tsv: " + e.getMessage(), e);
        }
        return new Classified(images, List.copyOf(categories.keySet()));
    }

    /** The five grey textures {@code [512, 512]} in {@link #TEXTURES} order. */
    static List<float[]> textures() {
        List<float[]> out = new ArrayList<>();
        for (String name : TEXTURES) {
            out.add(grey(image("texture-" + name + ".png")));
        }
        return out;
    }

    /** The OpenCV digits mosaic {@code [1000, 2000]}: 5000 white-on-black glyphs of 20×20, 500 per digit. */
    static Glyphs glyphs() {
        BufferedImage mosaic = image("opencv-digits.png");
        return new Glyphs(grey(mosaic), mosaic.getWidth());
    }

    /** Glyph access into the OpenCV mosaic: digit {@code d} has rows {@code 5d … 5d+4}, 100 glyphs per row. */
    record Glyphs(float[] mosaic, int width) {

        /** Glyph {@code index} (0…499: row {@code index / 100}, column {@code index % 100}) of a digit, [20, 20]. */
        float[] glyph(int digit, int index) {
            int top = (digit * GLYPH_ROWS_PER_DIGIT + index / GLYPHS_PER_ROW) * GLYPH_SIZE;
            int left = (index % GLYPHS_PER_ROW) * GLYPH_SIZE;
            float[] out = new float[GLYPH_SIZE * GLYPH_SIZE];
            for (int y = 0; y < GLYPH_SIZE; y++) {
                System.arraycopy(mosaic, (top + y) * width + left, out, y * GLYPH_SIZE, GLYPH_SIZE);
            }
            return out;
        }
    }

    private static float[] rgbTile(BufferedImage sheet, int left, int top) {
        int plane = TWEMOJI_TILE * TWEMOJI_TILE;
        float[] out = new float[3 * plane];
        for (int y = 0; y < TWEMOJI_TILE; y++) {
            for (int x = 0; x < TWEMOJI_TILE; x++) {
                int rgb = sheet.getRGB(left + x, top + y);
                for (int c = 0; c < 3; c++) {
                    out[c * plane + y * TWEMOJI_TILE + x] = ((rgb >>> (16 - 8 * c)) & 0xFF) / 255f;
                }
            }
        }
        return out;
    }

    /** 8-bit grey samples straight from the raster (getRGB would gamma-convert them). */
    private static float[] grey(BufferedImage image) {
        Raster raster = image.getRaster();
        if (raster.getNumBands() != 1 || raster.getSampleModel().getSampleSize(0) != 8) {
            throw new IllegalStateException("expected an 8-bit grey image, got " + raster.getNumBands() + " bands");
        }
        int[] samples = raster.getSamples(0, 0, image.getWidth(), image.getHeight(), 0, (int[]) null);
        float[] out = new float[samples.length];
        for (int i = 0; i < samples.length; i++) {
            out[i] = samples[i] / 255f;
        }
        return out;
    }

    private static BufferedImage image(String name) {
        try (InputStream in = open(name)) {
            BufferedImage image = ImageIO.read(in);
            if (image == null) {
                throw new IllegalStateException("bundled resource " + name + " is not a readable image");
            }
            return image;
        } catch (IOException e) {
            throw new UncheckedIOException(name + ": " + e.getMessage(), e);
        }
    }

    private static InputStream open(String name) {
        InputStream in = Sources.class.getResourceAsStream(name);
        if (in == null) {
            throw new IllegalStateException("bundled resource org/sa2vp/zoo/minivtab/" + name + " missing from the "
                    + "classpath (sa2vp-zoo jar)");
        }
        return in;
    }
}
