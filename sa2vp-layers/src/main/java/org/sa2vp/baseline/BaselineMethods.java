package org.sa2vp.baseline;

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
 * ({@link HeadTuningConfig}) and {@code "vpt"} ({@link VptConfig}), and the variants {@code linear-probe} and
 * {@code full-finetune} on any backbone, {@code vpt-shallow} and {@code vpt-deep} (10 prompt tokens) on ViTs.
 */
public final class BaselineMethods implements TuningMethodProvider {

    @Override
    public Map<String, Class<? extends TuningMethod>> configurationTypes() {
        Map<String, Class<? extends TuningMethod>> types = new LinkedHashMap<>();
        types.put("vit", HeadTuningConfig.class);
        types.put("vpt", VptConfig.class);
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
                new MethodVariant(HeadTuningConfig.FULL_FINETUNE, MethodVariant.ANY_FAMILY,
                        "full fine-tuning: every weight of the backbone and a new head",
                        HeadTuningConfig::fullFineTuning));
    }
}
