package org.sa2vp.zoo.benchmark;

import org.nd4j.shade.jackson.databind.JsonNode;
import org.sa2vp.config.ConfigSupport;

import java.util.List;

/**
 * A mean accuracy the paper reports for a whole suite or VTAB-1k group: the only Swin numbers it gives (Table 4).
 *
 * @param suite      {@code fgvc}, {@code hta} or {@code vtab-1k}
 * @param group      the VTAB-1k group, or null for the whole suite
 * @param paperTable the paper's tables the means come from
 * @param vit        SA2VP-ViT mean in %, or null
 * @param swin       SA2VP-Swin mean in %, or null
 */
public record ReportedMean(String suite, String group, String paperTable, Double vit, Double swin) {

    static final List<String> FIELDS = List.of("suite", "group", "paperTable", "vit", "swin");

    static ReportedMean read(JsonNode row, String file, int index) {
        TableReader.Field at = new TableReader.Field(file + " reportedMeans #" + index, null);
        at.onlyFields(row, FIELDS);
        String suite = at.child("suite").text(row);
        ConfigSupport.check(Benchmark.SUITES.contains(suite), at.owner(), "suite", "one of " + Benchmark.SUITES, suite);
        String group = at.child("group").optionalText(row);
        ConfigSupport.check(group == null || Benchmark.VTAB_GROUPS.contains(group), at.owner(), "group",
                "one of " + Benchmark.VTAB_GROUPS + " or null", group);
        return new ReportedMean(suite, group, at.child("paperTable").text(row), at.child("vit").percent(row),
                at.child("swin").percent(row));
    }

    /** {@code group} when there is one, else {@code suite}: how tables and {@code --group} name it. */
    public String label() {
        return group == null ? suite : group;
    }
}
