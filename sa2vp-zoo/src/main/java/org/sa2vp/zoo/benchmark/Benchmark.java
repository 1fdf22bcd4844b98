package org.sa2vp.zoo.benchmark;

import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.node.ObjectNode;
import org.sa2vp.config.ConfigSupport;
import org.sa2vp.data.ImagePreprocessing;
import org.sa2vp.data.ImageSources;

import java.util.Arrays;
import java.util.List;

/**
 * One dataset of the paper's benchmarks: one row of {@code benchmarks.json}. Null fields are values no source gives;
 * {@link #notes()} says which and why.
 *
 * @param id            stable command-line id, {@code suite/name}, e.g. {@code vtab-1k/dsprites-location}
 * @param name          the name as the paper (and VTAB) writes it
 * @param suite         {@code fgvc}, {@code hta} or {@code vtab-1k}
 * @param group         the VTAB-1k group ({@code natural}, {@code specialized}, {@code structured}); null otherwise
 * @param classes       number of classes
 * @param layout        how the data is laid out on disk; null where no reader exists yet
 * @param folder        the benchmark's folder relative to its suite's usual root (e.g. {@code dsprites_loc} in the
 *                      vtab-1k archive, {@code FGVC/CUB_200_2011} in DAM-VP's data tree)
 * @param preprocessing the {@link ImagePreprocessing#preset(String)} name; null where the authors do not say
 * @param vit           the authors' settings for SA2VP on ViT-B/16
 * @param swin          the authors' settings for SA2VP on Swin-B; null where the paper has no Swin run
 * @param paperVit      the paper's SA2VP-ViT accuracy in %, or null
 * @param paperSwin     the paper's SA2VP-Swin accuracy in %, or null (the paper reports Swin group means only)
 * @param paperTable    the paper's table the accuracies come from
 * @param source        where to get the data and the split files
 * @param licence       the data's licence or terms, as the source states them
 * @param notes         what is null and why, and the authors' deviations for this dataset; may be null
 */
public record Benchmark(String id, String name, String suite, String group, int classes,
                        ImageSources.Layout layout, String folder, String preprocessing, BenchmarkSettings vit,
                        BenchmarkSettings swin, Double paperVit, Double paperSwin, String paperTable, String source,
                        String licence, String notes) {

    /** The suites, in the paper's order. */
    public static final List<String> SUITES = List.of("fgvc", "hta", "vtab-1k");

    /** The VTAB-1k groups, in the paper's order. */
    public static final List<String> VTAB_GROUPS = List.of("natural", "specialized", "structured");

    /** The JSON field names of a row, in the table's order. */
    static final List<String> FIELDS = List.of("id", "name", "suite", "group", "classes", "layout", "folder",
            "preprocessing", "vit", "swin", "paperVit", "paperSwin", "paperTable", "source", "licence", "notes");

    /** The row at {@code index} of {@code file}, validated; a one-line error names the row and the field. */
    static Benchmark read(JsonNode row, String file, int index) {
        JsonNode idNode = row == null ? null : row.get("id");
        String rowName = idNode != null && idNode.isTextual() ? "'" + idNode.asText() + "'" : "#" + index;
        TableReader.Field at = new TableReader.Field(file + " benchmark " + rowName, null);
        at.onlyFields(row, FIELDS);
        String id = at.child("id").text(row);
        String suite = at.child("suite").text(row);
        ConfigSupport.check(SUITES.contains(suite), at.owner(), "suite", "one of " + SUITES, suite);
        ConfigSupport.check(id.matches("[a-z0-9-]+/[a-z0-9-]+") && id.startsWith(suite + "/"), at.owner(), "id",
                "'" + suite + "/' and lower-case letters, digits and '-'", id);
        String group = at.child("group").optionalText(row);
        if (suite.equals("vtab-1k")) {
            ConfigSupport.check(group != null && VTAB_GROUPS.contains(group), at.owner(), "group", "one of " + VTAB_GROUPS, group);
        } else {
            ConfigSupport.check(group == null, at.owner(), "group", "null outside vtab-1k", group);
        }
        String layoutName = at.child("layout").optionalText(row);
        List<String> layouts = Arrays.stream(ImageSources.Layout.values()).map(Enum::name).toList();
        ConfigSupport.check(layoutName == null || layouts.contains(layoutName), at.owner(), "layout",
                "one of " + layouts + " or null", layoutName);
        String preprocessing = at.child("preprocessing").optionalText(row);
        ConfigSupport.check(preprocessing == null || ImagePreprocessing.PRESETS.contains(preprocessing), at.owner(),
                "preprocessing", "one of " + ImagePreprocessing.PRESETS + " or null", preprocessing);
        TableReader.Field vitAt = at.child("vit");
        BenchmarkSettings vit = BenchmarkSettings.read(row.get("vit"), vitAt);
        JsonNode swinNode = row.get("swin");
        BenchmarkSettings swin = swinNode == null || swinNode.isNull() ? null
                : BenchmarkSettings.read(swinNode, at.child("swin"));
        return new Benchmark(id, at.child("name").text(row), suite, group, at.child("classes").requiredInteger(row, 2),
                layoutName == null ? null : ImageSources.Layout.valueOf(layoutName), at.child("folder").text(row),
                preprocessing, vit, swin,
                at.child("paperVit").percent(row), at.child("paperSwin").percent(row),
                at.child("paperTable").text(row), at.child("source").text(row), at.child("licence").text(row),
                at.child("notes").optionalText(row));
    }

    /**
     * This row as the table writes it (the same fields and order as {@code benchmarks.json}): Jackson writes a record
     * by its components, in declaration order.
     */
    public ObjectNode toJson() {
        return ConfigSupport.mapper().valueToTree(this);
    }
}
