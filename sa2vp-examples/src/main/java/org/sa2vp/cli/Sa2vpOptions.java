package org.sa2vp.cli;

import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.layers.AttentionMode;
import org.sa2vp.layers.runtime.AdapterActivation;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.method.TuningMethods;
import org.sa2vp.model.Sa2vpConfig;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The SA2VP hyper-parameters as command-line options, shared by every command. An option that is not given
 * leaves the base configuration's value (the authors' defaults, or a stored run's), so {@code train --resume} can
 * tell a repeated option from a changed one.
 */
public final class Sa2vpOptions {

    @Option(names = "--rank", paramLabel = "R", description = "rank of the prompt maps (default 16)")
    Integer rank;

    @Option(names = "--adapter-size", paramLabel = "T", description = "adapter bottleneck width (default 16)")
    Integer adapterSize;

    @Option(names = "--gamma", paramLabel = "G", description = "weight of the interaction (default 0.1)")
    Double gamma;

    @Option(names = "--lambda", paramLabel = "L", description = "loss λ·CE(image) + (1−λ)·CE(prompt) (default 0.8; 1 "
            + "= no prompt supervision)")
    Double lambda;

    @Option(names = "--window", paramLabel = "C", description = "odd window size of the spatially aligned attention "
            + "(default 3)")
    Integer window;

    @Option(names = "--image-to-prompt-layers", paramLabel = "LIST", description = "layers where the image updates"
            + " the prompt, e.g. 0,4,8 (default); the others update the image")
    String imageToPromptLayers;

    @Option(names = "--deep-prompt-layers", paramLabel = "LIST", description = "layers that inject a new prompt map, "
            + "e.g. 4,8 (default), or 'none'")
    String deepPromptLayers;

    @Option(names = "--activation", paramLabel = "gelu|relu", description = "adapter activation (default gelu, as "
            + "the authors' code; the paper says relu)")
    String activation;

    @Option(names = "--no-adapter", description = "ablation: the interaction is the cross attention alone")
    boolean noAdapter;

    @Option(names = "--global-attention", description = "ablation: attention over all tokens (no spatial "
            + "alignment)")
    boolean globalAttention;

    @Option(names = "--dropout", paramLabel = "P", description = "dropout wherever the authors' code has it "
            + "(default 0.1)")
    Double dropout;

    /** The authors' defaults on {@code backbone} with {@code classes}, then the given options. */
    public Sa2vpConfig toConfig(VisionTransformerConfig backbone, int classes) {
        return apply(Sa2vpConfig.of(backbone, classes));
    }

    /**
     * {@code base}, SA2VP on any backbone family, with every given option applied; an option of a setting that
     * SA2VP on this family does not have fails first ({@link #requireSettingsOf}).
     */
    public TuningMethod applyTo(TuningMethod base) {
        Map<String, Object> given = settings();
        requireSettingsOf(base, given.keySet());
        return TuningMethods.withSettings(base, given).validated();
    }

    /**
     * Fails in one line when SA2VP on {@code sa2vp}'s backbone family lacks one of the {@code given} settings (SA2VP
     * on the Swin has no deep prompt layers, its image→prompt blocks and dropouts are settings of their own): the
     * line names the options and the settings this family's SA2VP has, which {@code train --set} takes.
     */
    static void requireSettingsOf(TuningMethod sa2vp, Collection<String> given) {
        List<String> names = TuningMethods.settingNames(sa2vp);
        List<String> foreign = given.stream().filter(s -> !names.contains(s) && !sa2vp.settingAliases().containsKey(s))
                .map(OPTION_OF_SETTING::get).toList();
        if (foreign.isEmpty()) {
            return;
        }
        List<String> own = names.stream().filter(n -> !n.equals("backbone") && !n.equals("numClasses")).toList();
        throw new IllegalArgumentException(String.join(", ", foreign) + (foreign.size() == 1 ? " is an option"
                : " are options") + " of SA2VP on the ViT; SA2VP on " + sa2vp.getBackbone().family() + " has the "
                + "settings " + String.join(", ", own) + " (train: --set NAME=VALUE)");
    }

    /** The option that sets each setting of {@link #settings}, for messages. */
    private static final Map<String, String> OPTION_OF_SETTING = Map.ofEntries(Map.entry("promptRank", "--rank"),
            Map.entry("adapterSize", "--adapter-size"), Map.entry("gamma", "--gamma"),
            Map.entry("lossWeight", "--lambda"), Map.entry("windowSize", "--window"),
            Map.entry("imageToPromptLayers", "--image-to-prompt-layers"),
            Map.entry("deepPromptLayers", "--deep-prompt-layers"), Map.entry("adapterActivation", "--activation"),
            Map.entry("adapter", "--no-adapter"), Map.entry("attentionMode", "--global-attention"),
            Map.entry("dropout", "--dropout"));

    /** True when no SA2VP option was given. */
    public boolean isEmpty() {
        return settings().isEmpty();
    }

    /** {@code base} with every given option applied. */
    public Sa2vpConfig apply(Sa2vpConfig base) {
        return ((Sa2vpConfig) TuningMethods.withSettings(base, settings())).validated();
    }

    /**
     * The given options as settings of SA2VP's configuration, by JSON field name ({@link TuningMethods#withSettings}):
     * {@code --rank 8} is {@code promptRank = 8}. Options not given are absent.
     */
    public Map<String, Object> settings() {
        Map<String, Object> s = new LinkedHashMap<>();
        put(s, "promptRank", rank);
        put(s, "adapterSize", adapterSize);
        put(s, "gamma", gamma);
        put(s, "lossWeight", lambda);
        put(s, "windowSize", window);
        put(s, "imageToPromptLayers", imageToPromptLayers == null ? null
                : layers("--image-to-prompt-layers", imageToPromptLayers));
        put(s, "deepPromptLayers", deepPromptLayers == null ? null : layers("--deep-prompt-layers", deepPromptLayers));
        if (activation != null) {
            s.put("adapterActivation", switch (activation.toLowerCase(Locale.ROOT)) {
                case "gelu" -> AdapterActivation.GELU;
                case "relu" -> AdapterActivation.RELU;
                default -> throw new IllegalArgumentException("--activation must be gelu or relu, got " + activation);
            });
        }
        put(s, "adapter", noAdapter ? false : null);
        put(s, "attentionMode", globalAttention ? AttentionMode.GLOBAL : null);
        put(s, "dropout", dropout);
        return s;
    }

    private static void put(Map<String, Object> settings, String field, Object value) {
        if (value != null) {
            settings.put(field, value);
        }
    }

    /** "0,4,8" → [0, 4, 8]; "none" or "" → []. */
    static List<Integer> layers(String option, String text) {
        String t = text.strip();
        if (t.isEmpty() || t.equalsIgnoreCase("none")) {
            return List.of();
        }
        List<Integer> out = new ArrayList<>();
        for (String part : t.split(",")) {
            try {
                out.add(Integer.parseInt(part.strip()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + ": '" + part.strip() + "' is not a layer index (expected "
                        + "a list like 0,4,8 or 'none')");
            }
        }
        return out;
    }
}
