package org.sa2vp.zoo.benchmark;

import org.junit.jupiter.api.Test;
import org.nd4j.shade.jackson.databind.node.ObjectNode;
import org.sa2vp.config.ConfigSupport;
import org.sa2vp.data.ImageSources;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bundled table parses and validates, has the paper's datasets, and agrees with the paper's tables. */
class BenchmarksTest {

    @Test
    void countsPerSuiteAndGroup() {
        assertEquals(34 + 6, Benchmarks.all().size(), "the paper's, then mini-VTAB's from its registered source");
        assertEquals(5, Benchmarks.group("fgvc").size());
        assertEquals(10, Benchmarks.group("hta").size());
        assertEquals(19, Benchmarks.group("vtab-1k").size());
        assertEquals(6, Benchmarks.group("minivtab").size());
        assertEquals(7 + 2, Benchmarks.group("natural").size(), "a group spans suites");
        assertEquals(4 + 1, Benchmarks.group("specialized").size());
        assertEquals(8 + 3, Benchmarks.group("structured").size());
        assertEquals(List.of("fgvc", "hta", "vtab-1k", "minivtab"), Benchmarks.bundled().suites());
        assertEquals(List.of("fgvc/cub-200-2011", "fgvc/nabirds", "fgvc/oxford-flowers", "fgvc/stanford-dogs",
                "fgvc/stanford-cars"), Benchmarks.group("fgvc").stream().map(Benchmark::id).toList());
    }

    @Test
    void spotValuesAgainstThePaperAndTheAuthorsCode() {
        // Table 3 (VTAB-1k, ViT), SA2VP column; notes §1.7: dSprites 16/0.1, structured batch 40, lr 1e-3, 100 epochs
        Benchmark dspritesLocation = Benchmarks.get("vtab-1k/dsprites-location");
        assertEquals("dSprites/location", dspritesLocation.name());
        assertEquals("structured", dspritesLocation.group());
        assertEquals(16, dspritesLocation.classes());
        assertEquals(84.5, dspritesLocation.paperVit());
        assertNull(dspritesLocation.paperSwin());
        assertEquals(new BenchmarkSettings(16, 16, 0.1, 40, 1e-3, 2, 100, null, null, null, null), dspritesLocation.vit());
        assertEquals(ImageSources.Layout.VTAB_LISTS, dspritesLocation.layout());
        assertEquals("vtab1k", dspritesLocation.preprocessing());
        assertEquals("dsprites_loc", dspritesLocation.folder(), "the vtab-1k archive's folder name");
        assertEquals("torchvision_dataset/gtsrb", Benchmarks.get("hta/gtsrb").folder(), "DAM-VP's data tree");
        // Table 1 (FGVC, ViT): Stanford Cars 84.1; notes §1.7: Car 64/1.5 with 1 deep map
        Benchmark cars = Benchmarks.get("fgvc/stanford-cars");
        assertEquals(84.1, cars.paperVit());
        assertEquals(196, cars.classes());
        assertEquals(new BenchmarkSettings(64, 64, 1.5, null, 1e-3, 1, null, null, null, null, null), cars.vit());
        assertEquals(ImageSources.Layout.FGVC_JSON, cars.layout());
        // Table 2 (HTA, ViT): GTSRB 96.3; HTA 64/0.1
        Benchmark gtsrb = Benchmarks.get("hta/gtsrb");
        assertEquals(96.3, gtsrb.paperVit());
        assertEquals(43, gtsrb.classes());
        assertEquals(64, gtsrb.vit().promptRank());
        // Table 3: Pets 90.8 with lr 5e-4 (README exception)
        assertEquals(5e-4, Benchmarks.get("vtab-1k/pets").vit().learningRate());
        assertEquals(90.8, Benchmarks.get("vtab-1k/pets").paperVit());
    }

    @Test
    void rowsAverageToThePapersReportedMeans() {
        // The paper's means (Tables 1-3) are rounded to 2 decimals (HTA: 1); the rows must average to them.
        List<ReportedMean> means = Benchmarks.bundled().reportedMeans();
        assertEquals(5, means.size());
        for (ReportedMean mean : means) {
            double average = Benchmarks.group(mean.label()).stream().filter(b -> b.suite().equals(mean.suite()))
                    .mapToDouble(Benchmark::paperVit).average().orElseThrow();
            double tolerance = (mean.suite().equals("hta") ? 0.05 : 0.005) + 1e-9; // half a unit of the last digit
            assertEquals(mean.vit(), average, tolerance, mean.label());
        }
        // Table 4 (Swin): group means only
        assertEquals(86.30, means.get(3).swin());
    }

    @Test
    void unknownIdListsTheNearest() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Benchmarks.get("vtab-1k/dsprites-loc"));
        assertEquals("unknown benchmark 'vtab-1k/dsprites-loc'; nearest: vtab-1k/dsprites-location, "
                + "vtab-1k/dsprites-orientation, vtab-1k/pets (sa2vp benchmarks lists all 40)", e.getMessage());
        assertEquals("unknown benchmark 'cub'; nearest: hta/cub-200, fgvc/cub-200-2011, vtab-1k/sun397 "
                        + "(sa2vp benchmarks lists all 40)",
                assertThrows(IllegalArgumentException.class, () -> Benchmarks.get("cub")).getMessage());
        assertEquals("unknown benchmark group 'nature', expected one of [fgvc, hta, vtab-1k, minivtab, natural, "
                + "specialized, structured]", assertThrows(IllegalArgumentException.class, () -> Benchmarks.group("nature"))
                .getMessage());
    }

    @Test
    void badRowsFailInOneLineNamingRowAndField() {
        assertEquals("t.json benchmark 'vtab-1k/dtd': classes must be an integer >= 2 or null, got 1",
                error(row -> row.put("classes", 1)));
        assertEquals("t.json benchmark 'vtab-1k/dtd': vit.gamma must be a number > 0 or null, got -0.1",
                error(row -> ((ObjectNode) row.get("vit")).put("gamma", -0.1)));
        assertEquals("t.json benchmark 'vtab-1k/dtd': layout must be one of [FGVC_JSON, VTAB_LISTS, SPLIT_FOLDERS, "
                + "DTD_LISTS, FOOD101_META, GTSRB_FILES, CIFAR_PICKLES, SVHN_MAT, CLASS_FOLDER] or null, got VTAB",
                error(row -> row.put("layout", "VTAB")));
        assertEquals("t.json benchmark 'vtab-1k/dtd': group must be one of [natural, specialized, structured], got "
                + "null", error(row -> row.putNull("group")));
        assertEquals("t.json benchmark 'vtab-1k/dtd': paperVit must be an accuracy in % (0 to 100) or null, got 705",
                error(row -> row.put("paperVit", 705)));
        assertEquals("t.json benchmark 'vtab-1k/dtd': vit must be made of the fields [promptRank, adapterWidth, "
                        + "gamma, batchSize, learningRate, deepPromptMaps, epochs, warmupEpochs, weightDecay, "
                        + "minLearningRate, dropout], got unknown field 'rank'",
                error(row -> ((ObjectNode) row.get("vit")).put("rank", 8)));
        ObjectNode intact = table(Benchmarks.get("vtab-1k/dtd").toJson());
        intact.putArray("reportedAblations").addObject().put("suite", "vtab-1k").put("group", "natural")
                .put("variant", "intact").put("paperTable", "Table 5").put("vit", 80.97);
        assertEquals("t.json reportedAblations #0: variant must be one of [no-spatial-alignment, no-prompt-adapter, "
                        + "no-deep-prompting, no-prompt-supervision], got intact",
                assertThrows(IllegalArgumentException.class, () -> Benchmarks.parse(intact, "t.json")).getMessage());
        assertEquals("t.json benchmark #1: id must be unique, got vtab-1k/dtd (also row #0)",
                assertThrows(IllegalArgumentException.class, () -> Benchmarks.parse(table(
                        Benchmarks.get("vtab-1k/dtd").toJson(), Benchmarks.get("vtab-1k/dtd").toJson()), "t.json"))
                        .getMessage());
    }

    @Test
    void rowsRoundTripThroughJson() {
        List<Benchmark> paper = Benchmarks.all().stream().filter(b -> Benchmark.SUITES.contains(b.suite())).toList();
        Benchmarks again = Benchmarks.parse(table(paper.stream().map(Benchmark::toJson).toArray(ObjectNode[]::new)),
                "t.json");
        assertEquals(paper, again.rows());
    }

    @Test
    void registeredSourcesKeepTheirOwnSuiteAndUniqueIds() {
        Benchmark dtd = Benchmarks.get("vtab-1k/dtd");
        Benchmark copy = new Benchmark("mine/dtd", dtd.name(), "mine", dtd.group(), dtd.classes(), dtd.layout(),
                dtd.folder(), dtd.preprocessing(), dtd.vit(), null, null, null, "-", "-", "-", null);
        assertEquals(List.of("vtab-1k/dtd", "mine/dtd"), Benchmarks.bundled().withSources(List.of(() -> List.of(copy)))
                .inGroup("natural").stream().map(Benchmark::id).filter(id -> id.endsWith("/dtd")).toList());
        IllegalArgumentException taken = assertThrows(IllegalArgumentException.class, () -> Benchmarks.bundled()
                .withSources(List.of(() -> List.of(dtd))));
        assertTrue(taken.getMessage().contains(": suite must be a suite of its own (taken: [fgvc, hta, vtab-1k, "
                + "minivtab]), got vtab-1k"), taken.getMessage());
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> Benchmarks.bundled()
                .withSources(List.of(() -> List.of(copy, copy))));
        assertTrue(twice.getMessage().endsWith(": id must be unique, got mine/dtd"), twice.getMessage());
    }

    private static String error(java.util.function.Consumer<ObjectNode> edit) {
        ObjectNode row = Benchmarks.get("vtab-1k/dtd").toJson();
        edit.accept(row);
        return assertThrows(IllegalArgumentException.class, () -> Benchmarks.parse(table(row), "t.json"))
                .getMessage();
    }

    private static ObjectNode table(ObjectNode... rows) {
        ObjectNode table = ConfigSupport.mapper().createObjectNode();
        table.putObject("provenance");
        table.putArray("reportedMeans");
        for (ObjectNode row : rows) {
            table.withArray("benchmarks").add(row);
        }
        return table;
    }
}
