package org.sa2vp.model;

import org.sa2vp.backbone.swin.SwinFamily;
import org.sa2vp.backbone.swin.SwinTransformerConfig;
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
 * the variant {@code sa2vp} on ViT backbones with the authors' defaults ({@link Sa2vpConfig#of}); and
 * {@link Sa2vpSwinConfig} (JSON type {@code "sa2vp-swin"}), the variant {@code sa2vp} on Swin backbones
 * ({@link Sa2vpSwinConfig#of}).
 */
public final class Sa2vpMethods implements TuningMethodProvider {

    public static final String SA2VP = "sa2vp";
    /** JSON {@code "method"} id of {@link Sa2vpSwinConfig}; its method name is {@link #SA2VP} as on the ViT. */
    public static final String SA2VP_SWIN = "sa2vp-swin";

    @Override
    public Map<String, Class<? extends TuningMethod>> configurationTypes() {
        return Map.of(SA2VP, Sa2vpConfig.class, SA2VP_SWIN, Sa2vpSwinConfig.class);
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
                (backbone, classes) -> Sa2vpConfig.of((VisionTransformerConfig) backbone, classes)),
                new MethodVariant(SA2VP, SwinFamily.NAME, "SA2VP on Swin: the prompt map follows the hierarchy, "
                        + "interaction in the stage with the most blocks (the authors' defaults)",
                        (backbone, classes) -> Sa2vpSwinConfig.of((SwinTransformerConfig) backbone, classes)));
    }
}
