package org.sa2vp.zoo.benchmark;

import org.nd4j.shade.jackson.databind.JsonNode;
import org.sa2vp.config.ConfigSupport;

import java.util.Arrays;
import java.util.List;

/**
 * A group mean the paper reports for one of Table 5's ablated variants (SA2VP-ViT on VTAB-1k); the intact model's
 * row of that table is the group's {@link ReportedMean}.
 *
 * @param suite      the suite, e.g. {@code vtab-1k}
 * @param group      the VTAB group
 * @param variant    the {@link Ablation#id}, never {@code intact}
 * @param paperTable the paper's table
 * @param vit        the variant's mean accuracy in %
 */
public record ReportedAblation(String suite, String group, String variant, String paperTable, double vit) {

    static final List<String> FIELDS = List.of("suite", "group", "variant", "paperTable", "vit");

    static ReportedAblation read(JsonNode row, String file, int index) {
        TableReader.Field at = new TableReader.Field(file + " reportedAblations #" + index, null);
        at.onlyFields(row, FIELDS);
        String suite = at.child("suite").text(row);
        ConfigSupport.check(Benchmark.SUITES.contains(suite), at.owner(), "suite", "one of " + Benchmark.SUITES, suite);
        String group = at.child("group").text(row);
        ConfigSupport.check(Benchmark.VTAB_GROUPS.contains(group), at.owner(), "group", "one of "
                + Benchmark.VTAB_GROUPS, group);
        String variant = at.child("variant").text(row);
        List<String> ablated = Arrays.stream(Ablation.values()).filter(a -> a != Ablation.INTACT).map(a -> a.id)
                .toList();
        ConfigSupport.check(ablated.contains(variant), at.owner(), "variant", "one of " + ablated, variant);
        Double vit = at.child("vit").percent(row);
        ConfigSupport.check(vit != null, at.owner(), "vit", "an accuracy in %", "nothing");
        return new ReportedAblation(suite, group, variant, at.child("paperTable").text(row), vit);
    }
}
