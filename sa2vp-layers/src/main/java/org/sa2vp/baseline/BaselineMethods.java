package org.sa2vp.baseline;

import org.sa2vp.backbone.swin.SwinFamily;
import org.sa2vp.backbone.swin.SwinTransformerConfig;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitFamily;
import org.sa2vp.method.MethodVariant;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.method.TuningMethodProvider;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Registers the paper's baselines with {@link org.sa2vp.method.TuningMethods} (listed in
 * {@code META-INF/services/org.sa2vp.method.TuningMethodProvider}): the JSON types {@code "vit"}
 * ({@link HeadTuningConfig}), {@code "vpt"} ({@link VptConfig}) and {@code "vpt-swin"} ({@link VptSwinConfig}), and
 * the variants {@code linear-probe} and {@code full-finetune} on any backbone, {@code vpt-shallow} and
 * {@code vpt-deep} (10 prompt tokens) on ViTs and on Swins.
 */
public final class BaselineMethods implements TuningMethodProvider {

    /** The JSON type id of {@link VptSwinConfig}. */
    public static final String VPT_SWIN = "vpt-swin";

    @Override
    public Map<String, Class<? extends TuningMethod>> configurationTypes() {
        Map<String, Class<? extends TuningMethod>> types = new LinkedHashMap<>();
        types.put("vit", HeadTuningConfig.class);
        types.put("vpt", VptConfig.class);
        types.put(VPT_SWIN, VptSwinConfig.class);
        return types;
    }

    /** Listed first: the baselines, then SA2VP ({@code Sa2vpMethods}), as the paper's tables. */
    @Override
    public int order() {
        return 10;
    }

    @Override
    public List<MethodVariant> variants() {
        return List.of(
                new MethodVariant(HeadTuningConfig.LINEAR_PROBE, MethodVariant.ANY_FAMILY,
                        "linear probe: a new head on the frozen backbone's features", HeadTuningConfig::linearProbe),
                new MethodVariant("vpt-shallow", VitFamily.NAME, "VPT-shallow: 10 prompt tokens before the first "
                        + "block", (backbone, classes) -> VptConfig.builder()
                        .backbone((VisionTransformerConfig) backbone).numClasses(classes).deep(false).build()),
                new MethodVariant("vpt-deep", VitFamily.NAME, "VPT-deep: 10 new prompt tokens before every block",
                        (backbone, classes) -> VptConfig.of((VisionTransformerConfig) backbone, classes)),
                new MethodVariant("vpt-shallow", SwinFamily.NAME, "VPT-shallow on Swin: 10 prompt tokens in front of "
                        + "the first block's map, carried through every block and patch merging",
                        (backbone, classes) -> VptSwinConfig.of((SwinTransformerConfig) backbone, classes)
                                .withDeep(false)),
                new MethodVariant("vpt-deep", SwinFamily.NAME, "VPT-deep on Swin: 10 new prompt tokens in front of "
                        + "every block's map, in every window's attention",
                        (backbone, classes) -> VptSwinConfig.of((SwinTransformerConfig) backbone, classes)),
                new MethodVariant(HeadTuningConfig.FULL_FINETUNE, MethodVariant.ANY_FAMILY,
                        "full fine-tuning: every weight of the backbone and a new head",
                        HeadTuningConfig::fullFineTuning));
    }
}
