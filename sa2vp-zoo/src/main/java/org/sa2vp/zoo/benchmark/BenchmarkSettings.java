package org.sa2vp.zoo.benchmark;

import org.nd4j.shade.jackson.databind.JsonNode;

import java.util.List;

/**
 * The authors' settings for one benchmark on one backbone; a null field is one no source gives (the row's notes say
 * which).
 *
 * @param promptRank     rank r of the prompt map ("inter-dim")
 * @param adapterWidth   hidden width of the prompt adapter (the authors change it together with r)
 * @param gamma          fusion weight γ ({@code add_scale})
 * @param batchSize      training batch size
 * @param learningRate   peak AdamW learning rate
 * @param deepPromptMaps number of prompt maps added after the first (deep prompting)
 * @param epochs         training epochs
 */
public record BenchmarkSettings(Integer promptRank, Integer adapterWidth, Double gamma, Integer batchSize,
                                Double learningRate, Integer deepPromptMaps, Integer epochs) {

    /** The JSON field names, in the table's order. */
    static final List<String> FIELDS = List.of("promptRank", "adapterWidth", "gamma", "batchSize", "learningRate",
            "deepPromptMaps", "epochs");

    static BenchmarkSettings read(JsonNode node, TableReader.Field at) {
        at.onlyFields(node, FIELDS);
        BenchmarkSettings settings = new BenchmarkSettings(at.child("promptRank").integer(node, 1),
                at.child("adapterWidth").integer(node, 1), at.child("gamma").positive(node),
                at.child("batchSize").integer(node, 1), at.child("learningRate").positive(node),
                at.child("deepPromptMaps").integer(node, 0), at.child("epochs").integer(node, 1));
        return settings;
    }
}
