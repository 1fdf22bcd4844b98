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
 * @param warmupEpochs   epochs of linear warm-up; null: the paper's share of the run (10 of 100 epochs)
 * @param weightDecay    AdamW's decoupled weight decay; null: the paper's 1e-4
 * @param minLearningRate the cosine's final learning rate; null: the paper's 1e-7
 * @param dropout        SA2VP's dropout wherever the authors' code has it; null: the authors' 0.1
 */
public record BenchmarkSettings(Integer promptRank, Integer adapterWidth, Double gamma, Integer batchSize,
                                Double learningRate, Integer deepPromptMaps, Integer epochs, Integer warmupEpochs,
                                Double weightDecay, Double minLearningRate, Double dropout) {

    /** The JSON field names, in the table's order; the last four may be left out of a row (null). */
    static final List<String> FIELDS = List.of("promptRank", "adapterWidth", "gamma", "batchSize", "learningRate",
            "deepPromptMaps", "epochs", "warmupEpochs", "weightDecay", "minLearningRate", "dropout");

    static BenchmarkSettings read(JsonNode node, TableReader.Field at) {
        at.onlyFields(node, FIELDS);
        return new BenchmarkSettings(at.child("promptRank").integer(node, 1),
                at.child("adapterWidth").integer(node, 1), at.child("gamma").positive(node),
                at.child("batchSize").integer(node, 1), at.child("learningRate").positive(node),
                at.child("deepPromptMaps").integer(node, 0), at.child("epochs").integer(node, 1),
                at.child("warmupEpochs").integer(node, 0), at.child("weightDecay").fraction(node),
                at.child("minLearningRate").fraction(node), at.child("dropout").fraction(node));
    }
}
