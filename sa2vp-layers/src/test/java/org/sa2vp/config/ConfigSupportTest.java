package org.sa2vp.config;

import org.junit.jupiter.api.Test;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.model.Sa2vpConfig;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The one top-level JSON diff that {@code train --resume} and benchmark results name changed settings with. */
class ConfigSupportTest {

    @Test
    void changedFieldsNameEachDifferenceInOrder() {
        Sa2vpConfig base = Sa2vpConfig.of(VisionTransformerConfig.named("vit_small_patch16_224"), 10);
        Sa2vpConfig changed = base.toBuilder().gamma(0.5).promptRank(8).build();
        List<ConfigSupport.FieldChange> changes = ConfigSupport.changedFields(base.toJson(), changed.toJson());
        assertEquals(List.of("promptRank 16 → 8", "gamma 0.1 → 0.5"), changes.stream()
                .map(c -> c.field() + " " + c.from() + " → " + c.to()).toList());
        assertEquals(List.of(), ConfigSupport.changedFields(base.toJson(), base.toJson()));
        assertEquals(List.of(new ConfigSupport.FieldChange("b", null, ConfigSupport.mapper().valueToTree(2)),
                        new ConfigSupport.FieldChange("c", null, ConfigSupport.mapper().valueToTree(3))),
                ConfigSupport.changedFields("{\"a\":1}", "{\"a\":1,\"b\":2,\"c\":3}"));
    }
}
