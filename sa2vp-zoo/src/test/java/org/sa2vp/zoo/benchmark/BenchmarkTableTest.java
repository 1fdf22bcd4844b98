package org.sa2vp.zoo.benchmark;

import org.junit.jupiter.api.Test;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.layers.AttentionMode;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.method.TuningMethods;
import org.sa2vp.model.Sa2vpConfig;
import org.sa2vp.train.EpochRecord;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Table 5's variants are recognised however a run was configured; a finished run's result keeps the best and the last
 * epoch; the table of a half-finished sweep shows its gaps instead of averaging over them.
 */
class BenchmarkTableTest {

    private static final VisionTransformerConfig VIT_S = VisionTransformerConfig.named("vit_small_patch16_224");
    private static final Benchmark DSPRITES = Benchmarks.get("vtab-1k/dsprites-location");

    @Test
    void variantsAreRecognisedFromTheirSettings() {
        Sa2vpConfig base = BenchmarkRecipes.sa2vp(DSPRITES, VIT_S);
        assertEquals("intact", BenchmarkResult.variant(base, base));
        assertEquals("no-spatial-alignment", BenchmarkResult.variant(base,
                base.toBuilder().attentionMode(AttentionMode.GLOBAL).build()));
        assertEquals("no-prompt-adapter", BenchmarkResult.variant(base, base.toBuilder().adapter(false).build()));
        assertEquals("no-deep-prompting", BenchmarkResult.variant(base,
                base.toBuilder().deepPromptLayers(List.of()).build()));
        assertEquals("no-prompt-supervision", BenchmarkResult.variant(base,
                TuningMethods.withSettings(base, Map.of("lossWeight", 1))));
        assertEquals("promptRank=8, gamma=0.5", BenchmarkResult.variant(base,
                base.toBuilder().promptRank(8).gamma(0.5).build()));
        TuningMethod probe = BenchmarkRecipes.method(DSPRITES, "linear-probe", VIT_S);
        assertNull(BenchmarkResult.variant(probe, probe), "a baseline at the benchmark's settings");
        for (Ablation a : Ablation.values()) {
            assertEquals(a, Ablation.identify(base, a.apply(base)));
            assertEquals(a, Ablation.of(a.id));
        }
    }

    @Test
    void aResultKeepsTheBestAndTheLastEpochAndRoundTrips(@org.junit.jupiter.api.io.TempDir Path dir) {
        Sa2vpConfig base = BenchmarkRecipes.sa2vp(DSPRITES, VIT_S);
        List<EpochRecord> history = List.of(epoch(1, 0.50), epoch(2, 0.845), epoch(3, 0.80));
        BenchmarkResult r = BenchmarkResult.of(DSPRITES, base, base, BenchmarkData.SplitMode.TRAINVAL_TEST, 43,
                history);
        assertEquals(List.of(0.845, 2, 0.80, 3), List.of(r.bestAccuracy(), r.bestEpoch(), r.lastAccuracy(),
                r.epochs()));
        assertEquals("vtab-1k/dsprites-location sa2vp intact seed 43: 84.5 (best of 3 epochs, at 2: the paper's "
                + "protocol); 80.0 after the last epoch; published 84.5 (Table 3)", r.paperLine());
        r.write(dir);
        assertEquals(r, BenchmarkResult.read(dir.resolve(BenchmarkResult.FILE)));
        assertEquals(List.of(dir.resolve(BenchmarkResult.FILE)), BenchmarkResult.findAll(dir));
        assertThrows(IllegalArgumentException.class, () -> BenchmarkResult.of(DSPRITES, base, base,
                BenchmarkData.SplitMode.TRAINVAL_TEST, 43, List.of(new EpochRecord(1, 10, 0, 1, null, null, 1))));
    }

    @Test
    void tableShowsSeedsGroupMeansAndGaps() {
        List<Benchmark> rows = Benchmarks.group("minivtab").subList(2, 5); // texture_patch; digit_count, digit_location
        List<BenchmarkResult> results = List.of(
                result("minivtab/texture_patch", "intact", 42, 0.88), result("minivtab/texture_patch", "intact", 43,
                        0.90),
                result("minivtab/digit_count", "intact", 42, 0.80),
                result("minivtab/digit_location", "intact", 42, 0.86),
                result("minivtab/digit_count", "no-spatial-alignment", 42, 0.70),
                result("vtab-1k/dtd", "intact", 42, 0.5));
        String[] lines = BenchmarkTable.markdown(rows, results, false).split("\n");
        assertEquals("| benchmark | sa2vp intact | sa2vp no-spatial-alignment | published |", lines[0]);
        assertEquals("| minivtab/texture_patch | 89.0 ± 1.4 (2) | — | 89.0 |", lines[2]);
        assertEquals("| minivtab/digit_count | 80.0 (1) | 70.0 (1) | 79.5 |", lines[3]);
        assertEquals("| **specialized (mean)** | 89.0 | — | 89.0 |", lines[5]);
        assertEquals("| **structured (mean)** | 83.0 | — (1 of 2) | 83.1 |", lines[6]);
        assertEquals("| **All (mean)** | 85.0 | — (1 of 3) | 85.1 |", lines[7]);
        assertEquals(8, lines.length);

        String[] csv = BenchmarkTable.csv(List.of(results.get(1), results.get(0), new BenchmarkResult(
                "minivtab/digit_count", "sa2vp", "promptRank=8, gamma=0.5", "TRAIN_VAL", 42, 5, 0.5, 3, 0.25, null,
                null))).split("\n");
        assertEquals(List.of(BenchmarkTable.CSV_HEADER,
                "minivtab/digit_count,sa2vp,\"promptRank=8, gamma=0.5\",TRAIN_VAL,42,5,0.500000,3,0.250000",
                "minivtab/texture_patch,sa2vp,\"intact\",TRAINVAL_TEST,42,5,0.880000,5,0.870000",
                "minivtab/texture_patch,sa2vp,\"intact\",TRAINVAL_TEST,43,5,0.900000,5,0.890000"), List.of(csv));
    }

    @Test
    void thePapersTable5ComesFromTheRegistry() {
        String[] lines = BenchmarkTable.paperAblations(Benchmarks.bundled(), "vtab-1k").split("\n");
        assertEquals(List.of("| variant | natural | specialized | structured |", "|---|---|---|---|",
                "| w/o Spatial alignment | 79.37 | 83.65 | 56.98 |", "| w/o Prompt adapter | 79.86 | 82.63 | 59.3 |",
                "| w/o Deep prompting | 80.1 | 85.13 | 59.16 |", "| w/o Supervision on Prompt | 80.37 | 85.73 | 57.36 |",
                "| Intact SA2VP | 80.97 | 85.73 | 60.8 |"), List.of(lines));
        assertEquals("", BenchmarkTable.paperAblations(Benchmarks.bundled(), "minivtab"));
    }

    private static BenchmarkResult result(String id, String variant, long seed, double accuracy) {
        return new BenchmarkResult(id, "sa2vp", variant, "TRAINVAL_TEST", seed, 5, accuracy, 5, accuracy - 0.01,
                Benchmarks.get(id).paperVit(), "docs/MINIVTAB.md");
    }

    private static EpochRecord epoch(int epoch, double accuracy) {
        return new EpochRecord(epoch, 10 * epoch, 1e-3, 1.0, 1.0, accuracy, 1.0);
    }
}
