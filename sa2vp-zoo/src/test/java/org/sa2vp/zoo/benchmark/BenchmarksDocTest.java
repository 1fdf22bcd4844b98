package org.sa2vp.zoo.benchmark;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code docs/BENCHMARKS-PAPER.md} is exactly what {@link BenchmarksDoc} writes from the table, so it cannot drift.
 * {@code -Dsa2vp.writeDocs=true} rewrites it instead (then commit the result).
 */
class BenchmarksDocTest {

    /** The repository root seen from surefire's working directory, the module directory. */
    private static final Path DOC = Path.of("..").resolve(BenchmarksDoc.PATH);

    @Test
    void committedDocIsGenerated() throws IOException {
        String generated = BenchmarksDoc.markdown(Benchmarks.bundled());
        if (Boolean.getBoolean("sa2vp.writeDocs")) {
            Files.writeString(DOC, generated, StandardCharsets.UTF_8);
        }
        assertEquals(generated, Files.readString(DOC, StandardCharsets.UTF_8),
                DOC + " differs from the table; regenerate it with -Dsa2vp.writeDocs=true");
        assertTrue(generated.contains("| `vtab-1k/dsprites-location` | dSprites/location | structured | 16 | "
                + "`VTAB_LISTS` | `vtab1k` | 16 / 16 / 0.1 / 40 / 0.001 / 2 / 100 | 8 / 8 / 1.5 / 0 | 84.5 | - |"));
        assertTrue(generated.contains("**Nothing can be downloaded from here**"));
    }
}
