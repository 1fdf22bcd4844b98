package org.sa2vp.model;

import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitFamily;
import org.sa2vp.method.MethodVariant;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.method.TuningMethodProvider;

import java.util.List;
import java.util.Map;

/**
 * Registers SA2VP with {@link org.sa2vp.method.TuningMethods} (listed in
 * {@code META-INF/services/org.sa2vp.method.TuningMethodProvider}): the {@link Sa2vpConfig} JSON type
 * {@code "sa2vp"}, also for configuration JSON without a {@code "method"} (the format before the baselines), and
 * the variant {@code sa2vp} on ViT backbones with the authors' defaults ({@link Sa2vpConfig#of}).
 */
public final class Sa2vpMethods implements TuningMethodProvider {

    public static final String SA2VP = "sa2vp";

    @Override
    public Map<String, Class<? extends TuningMethod>> configurationTypes() {
        return Map.of(SA2VP, Sa2vpConfig.class);
    }

    @Override
    public String untaggedJsonType() {
        return SA2VP;
    }

    /** After the baselines ({@code BaselineMethods}), as the paper's tables. */
    @Override
    public int order() {
        return 20;
    }

    @Override
    public List<MethodVariant> variants() {
        return List.of(new MethodVariant(SA2VP, VitFamily.NAME, "SA2VP: spatially aligned 2-D prompts with "
                + "cross-attention interaction (the authors' defaults)",
                (backbone, classes) -> Sa2vpConfig.of((VisionTransformerConfig) backbone, classes)));
    }
}
