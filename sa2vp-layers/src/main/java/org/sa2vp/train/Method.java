package org.sa2vp.train;

import org.sa2vp.method.TuningMethod;

import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.baseline.VitTuningConfig;
import org.sa2vp.baseline.VptConfig;
import org.sa2vp.model.Sa2vpConfig;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The methods the paper compares, by the names the command line and result tables use, each with its default
 * configuration on a given backbone: SA2VP ({@link Sa2vpConfig#of}), the linear probe and full fine-tuning
 * ({@link VitTuningConfig}), VPT-shallow and VPT-deep with 10 prompt tokens ({@link VptConfig}).
 */
public enum Method {
    LINEAR_PROBE("linear-probe"),
    VPT_SHALLOW("vpt-shallow"),
    VPT_DEEP("vpt-deep"),
    FULL_FINETUNE("full-finetune"),
    SA2VP("sa2vp");

    private final String label;

    Method(String label) {
        this.label = label;
    }

    /** The name on the command line and in tables, e.g. {@code vpt-deep}. */
    public String label() {
        return label;
    }

    /** The method's default configuration for {@code numClasses} classes on {@code backbone} (its head ignored). */
    public TuningMethod create(VisionTransformerConfig backbone, int numClasses) {
        VisionTransformerConfig headless = backbone.withNumClasses(0);
        return switch (this) {
            case LINEAR_PROBE -> VitTuningConfig.linearProbe(headless, numClasses);
            case FULL_FINETUNE -> VitTuningConfig.fullFineTuning(headless, numClasses);
            case VPT_SHALLOW -> VptConfig.builder().backbone(headless).numClasses(numClasses).deep(false).build()
                    .validated();
            case VPT_DEEP -> VptConfig.of(headless, numClasses);
            case SA2VP -> Sa2vpConfig.of(headless, numClasses);
        };
    }

    /** The method named {@code label} (as {@link #label()}, case-insensitive, '_' for '-' accepted). */
    public static Method parse(String label) {
        String wanted = label.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        for (Method m : values()) {
            if (m.label.equals(wanted)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown method '" + label + "'; expected one of "
                + Arrays.stream(values()).map(Method::label).collect(Collectors.joining(", ")));
    }

    @Override
    public String toString() {
        return label;
    }
}
