package org.sa2vp.zoo.benchmark;

import org.sa2vp.layers.AttentionMode;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.method.TuningMethods;
import org.sa2vp.model.Sa2vpMethods;

import java.util.List;
import java.util.Map;

/**
 * The variants of the paper's Table 5: the intact model and the four ablations, each as settings of SA2VP's
 * configuration applied to a benchmark's ({@link BenchmarkRecipes#sa2vp}). The same settings are the command line's
 * {@code --global-attention}, {@code --no-adapter}, {@code --deep-prompt-layers none} and {@code --lambda 1}, so a run
 * started either way is recognised as the same variant ({@link #identify}).
 */
public enum Ablation {
    /** The model as configured for the benchmark. */
    INTACT("intact", "Intact SA2VP", Map.of()),
    /** Cross attention over every token instead of the aligned window: the paper's "global variant". */
    NO_SPATIAL_ALIGNMENT("no-spatial-alignment", "w/o Spatial alignment",
            Map.of("attentionMode", AttentionMode.GLOBAL)),
    /** The interaction is the cross attention alone, without the prompt adapter. */
    NO_PROMPT_ADAPTER("no-prompt-adapter", "w/o Prompt adapter", Map.of("adapter", false)),
    /** Shallow prompting: no prompt map is added after the first. */
    NO_DEEP_PROMPTING("no-deep-prompting", "w/o Deep prompting", Map.of("deepPromptLayers", List.of())),
    /** λ = 1: the prompt pathway's classifier gets no loss. */
    NO_PROMPT_SUPERVISION("no-prompt-supervision", "w/o Supervision on Prompt", Map.of("lossWeight", 1.0));

    /** The id in result files and folder names. */
    public final String id;
    /** The row name of the paper's Table 5. */
    public final String paperName;
    private final Map<String, Object> settings;

    Ablation(String id, String paperName, Map<String, Object> settings) {
        this.id = id;
        this.paperName = paperName;
        this.settings = settings;
    }

    /** The settings of SA2VP's configuration this variant changes, by JSON field name (none for {@link #INTACT}). */
    public Map<String, Object> settings() {
        return settings;
    }

    /** {@code base} (an SA2VP configuration) with this variant's settings. */
    public TuningMethod apply(TuningMethod base) {
        return TuningMethods.withSettings(base, settings).validated();
    }

    /**
     * The variant whose settings turn {@code base} (SA2VP) into {@code configured}, or null when none does (a run
     * with other changes, or of another method: its result is labelled by the changed settings instead).
     */
    public static Ablation identify(TuningMethod base, TuningMethod configured) {
        if (!Sa2vpMethods.SA2VP.equals(base.methodName()) || !base.methodName().equals(configured.methodName())) {
            return null;
        }
        String target = configured.toJson();
        for (Ablation a : values()) {
            if (TuningMethods.settingNames(base).containsAll(a.settings.keySet()) && a.apply(base).toJson()
                    .equals(target)) {
                return a;
            }
        }
        return null;
    }

    /** The variant with this {@link #id}. */
    public static Ablation of(String id) {
        for (Ablation a : values()) {
            if (a.id.equals(id)) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown ablation '" + id + "'; expected one of "
                + java.util.Arrays.stream(values()).map(a -> a.id).toList());
    }
}
