package org.sa2vp.extension;

import org.sa2vp.method.MethodVariant;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.method.TuningMethodProvider;

import java.util.List;
import java.util.Map;

/** Registers the test-only {@link MlpProbeConfig} (JSON id and variant {@code mlp-probe}, any backbone family). */
public final class MlpProbeMethods implements TuningMethodProvider {

    @Override
    public Map<String, Class<? extends TuningMethod>> configurationTypes() {
        return Map.of(MlpProbeConfig.NAME, MlpProbeConfig.class);
    }

    @Override
    public List<MethodVariant> variants() {
        return List.of(new MethodVariant(MlpProbeConfig.NAME, MethodVariant.ANY_FAMILY,
                "MLP probe: a ReLU hidden layer and a linear head on the frozen features (test sources only)",
                MlpProbeConfig::new));
    }
}
