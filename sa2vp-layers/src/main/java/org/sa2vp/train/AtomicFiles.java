package org.sa2vp.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes a file completely under a temporary sibling name, then renames it into place, so that a crash or
 * Ctrl-C never leaves a truncated checkpoint, state or metrics file behind.
 */
public final class AtomicFiles {

    /** Writes the content of a file given its (temporary) path. */
    @FunctionalInterface
    public interface Writer {
        void write(Path temporary) throws IOException;
    }

    private AtomicFiles() {
    }

    public static void write(Path file, Writer writer) {
        Path absolute = file.toAbsolutePath();
        Path temp = absolute.resolveSibling(absolute.getFileName() + ".tmp");
        try {
            Files.createDirectories(absolute.getParent());
            Files.deleteIfExists(temp);
            writer.write(temp);
            Files.move(temp, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    public static void writeString(Path file, String content) {
        write(file, temp -> Files.writeString(temp, content, StandardCharsets.UTF_8));
    }

    /** Copies {@code source} to {@code target} under a temporary name, then renames it. */
    public static void copy(Path source, Path target) {
        write(target, temp -> Files.copy(source, temp, StandardCopyOption.REPLACE_EXISTING));
    }
}
