package org.sa2vp.cli;

import org.junit.jupiter.api.Test;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.sa2vp.config.ConfigSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code sa2vp benchmarks}: the aligned table, {@code --group}, {@code --json}, and a bad group's one line. */
class BenchmarksCommandTest {

    @Test
    void printsTheAlignedTableOfAGroup() {
        CliRun run = CliRun.of("benchmarks", "--group", "fgvc");
        assertEquals(0, run.code());
        String[] lines = run.out().split("\n");
        assertEquals(6, lines.length, run.out());
        assertEquals("id                   name            classes  layout     preprocessing  rank  adapter  gamma  batch"
                + "  lr     deep  epochs  ViT %  Swin %", lines[0]);
        assertEquals("fgvc/stanford-cars   Stanford Cars   196      FGVC_JSON  fgvc           64    64       1.5    -"
                + "      0.001  1     -       84.1   -", lines[5]);
    }

    @Test
    void jsonHasEveryRowAndField() throws Exception {
        CliRun run = CliRun.of("benchmarks", "--json", "--group", "structured");
        assertEquals(0, run.code());
        JsonNode rows = ConfigSupport.mapper().readTree(run.out());
        assertEquals(8 + 3, rows.size(), "VTAB-1k's and mini-VTAB's");
        JsonNode azimuth = rows.get(6);
        assertEquals("vtab-1k/smallnorb-azimuth", azimuth.get("id").asText());
        assertEquals(18, azimuth.get("classes").asInt());
        assertEquals(0.5, azimuth.get("vit").get("gamma").asDouble());
        assertEquals(34.7, azimuth.get("paperVit").asDouble());
        assertTrue(azimuth.get("paperSwin").isNull());
        assertEquals("minivtab/digit_location", rows.get(9).get("id").asText());
        assertEquals(34 + 6, ConfigSupport.mapper().readTree(CliRun.of("benchmarks", "--json").out()).size());
    }

    @Test
    void unknownGroupFailsInOneLine() {
        CliRun run = CliRun.of("benchmarks", "--group", "nature");
        assertNotEquals(0, run.code());
        assertEquals("sa2vp benchmarks: unknown benchmark group 'nature', expected one of [fgvc, hta, vtab-1k, "
                + "minivtab, natural, specialized, structured]", run.err().strip());
    }
}
