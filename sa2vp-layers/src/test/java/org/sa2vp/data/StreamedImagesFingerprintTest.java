package org.sa2vp.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * What a resumed run compares ({@link StreamedImages#fingerprint()}): the same images under another spelling of
 * their path or in another place give the same digest; another image, label or preprocessing another one.
 */
class StreamedImagesFingerprintTest {

    private static void folder(Path root, int shade) throws IOException {
        for (String name : new String[]{"a", "b"}) {
            Path dir = Files.createDirectories(root.resolve("train").resolve(name));
            for (int i = 0; i < 3; i++) {
                BufferedImage image = new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_GRAY);
                image.getRaster().setSample(i, i, 0, name.equals("a") ? shade : 255 - shade);
                ImageIO.write(image, "png", dir.resolve(i + ".png").toFile());
            }
        }
    }

    private static String fingerprint(Path root, ImagePreprocessing preprocessing) {
        return StreamedImages.open(root, "train", preprocessing, false).fingerprint();
    }

    @Test
    void followsTheContentNotThePath(@TempDir Path dir) throws IOException {
        ImagePreprocessing vtab = ImagePreprocessing.vtab1k().forInput(1, 8, 8);
        Path first = dir.resolve("first");
        folder(first, 10);
        String original = fingerprint(first, vtab);
        assertEquals(original, fingerprint(dir.resolve("first/../first/."), vtab), "another spelling");
        Path moved = dir.resolve("elsewhere").resolve("copy");
        folder(moved, 10);
        assertEquals(original, fingerprint(moved, vtab), "the same files in another place");

        assertNotEquals(original, fingerprint(first, vtab.withHorizontalFlip(true)), "another preprocessing");
        Files.move(first.resolve("train/a/2.png"), first.resolve("train/b/9.png"));
        assertNotEquals(original, fingerprint(first, vtab), "an image moved to another class");
    }
}
