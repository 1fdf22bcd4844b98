package org.sa2vp.model;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.backbone.swin.SwinTransformerConfig;
import org.sa2vp.layers.Implementation;
import org.sa2vp.layers.Parameters;
import org.sa2vp.layers.runtime.AdapterWeights;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.method.TuningMethods;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SA2VP-Swin's configuration: the authors' defaults on Swin-B (docs/AUTHORS-CODE.md §2: stage 2, image→prompt at
 * blocks 0, 6, 12, r = 8, t = 8, γ = 0.5, drop-path 0.2, 201,488 trainable values plus the head) through the method
 * registry, the same rule on other depths, a new graph initialised as their Swin code leaves it, and one-line errors
 * naming the field.
 */
class Sa2vpSwinConfigTest {

    private static final SwinTransformerConfig SWIN_B = SwinTransformerConfig.named("swin_base_patch4_window7_224");

    @Test
    void theRegistryGivesTheAuthorsSwinVariantForSa2vpOnSwinB() {
        TuningMethod method = TuningMethods.create("sa2vp", SWIN_B, 10);
        Sa2vpSwinConfig config = assertInstanceOf(Sa2vpSwinConfig.class, method);
        assertEquals("sa2vp", config.methodName());
        assertEquals(2, config.getInteractionStage());
        assertEquals(List.of(0, 6, 12), config.getImageToPromptBlocks());
        assertEquals(3, config.getWindowSize());
        assertEquals(8, config.getPromptRank());
        assertEquals(8, config.getAdapterSize());
        assertEquals(0.5, config.getGamma());
        assertEquals(0.8, config.getLossWeight());
        assertEquals(1e-6, config.getInteractionLayerNormEps());
        assertEquals(0.1, config.getAttentionDropout());
        assertEquals(0.1, config.getAdapterDropout());
        assertEquals(0.2, config.getBackbone().getDropPathRate());
        assertEquals(201_488, SwinAuthorsNames.trainableWithoutHead(config));
        assertEquals(201_488 + 1025 * 10, config.trainableParameters());
        assertEquals(config, TuningMethods.fromJson(config.toJson()));
    }

    @Test
    void otherDepthsInteractInTheirLongestStageEverySixthBlock() {
        SwinTransformerConfig tiny = SwinTransformerConfig.named("swin_tiny_patch4_window7_224");
        Sa2vpSwinConfig config = Sa2vpSwinConfig.of(tiny, 5);
        assertEquals(2, config.getInteractionStage());
        assertEquals(List.of(0), config.getImageToPromptBlocks());
        Sa2vpSwinConfig flat = Sa2vpSwinConfig.of(tiny.withDepths(List.of(2, 2)).withNumHeads(List.of(3, 6)), 5);
        assertEquals(0, flat.getInteractionStage());
    }

    @Test
    void aNewGraphStartsAsTheAuthorsSwinCode() {
        SwinTransformerConfig tiny = SwinTransformerConfig.builder().inChannels(1).imageHeight(8).imageWidth(8)
                .patchSize(2).embedDim(8).depths(List.of(3, 2)).numHeads(List.of(2, 2)).windowSize(2).build()
                .validated();
        Sa2vpSwinConfig config = Sa2vpSwinConfig.of(tiny, 3).withAdapterSize(6);
        Nd4j.getRandom().setSeed(5);
        ComputationGraph graph = Sa2vpSwinModel.create(config, Implementation.FAST);
        // Their model-wide _init_weights: every Linear trunc-normal(0.02) with zero bias, every LayerNorm 1/0.
        List<INDArray> weights = new ArrayList<>();
        for (int n = 0; n < 3; n++) {
            Map<String, INDArray> adapter = Parameters.of(graph, Sa2vpSwinModel.adapter(0, n));
            assertEquals(0.0, adapter.get(AdapterWeights.DOWN_B).amaxNumber().doubleValue(), 0.0);
            assertEquals(0.0, adapter.get(AdapterWeights.UP_B).amaxNumber().doubleValue(), 0.0);
            assertEquals(1.0, adapter.get(AdapterWeights.NORM_GAMMA).minNumber().doubleValue(), 0.0);
            weights.add(adapter.get(AdapterWeights.DOWN_W).reshape(-1));
            weights.add(adapter.get(AdapterWeights.UP_W).reshape(-1));
        }
        Map<String, INDArray> prompt = Parameters.of(graph, Sa2vpSwinModel.PROMPT_MAP);
        assertEquals(0.0, prompt.get(SwinPromptMap.PROMPT_PROJ_B).amaxNumber().doubleValue(), 0.0);
        weights.add(prompt.get(SwinPromptMap.PROMPT_PROJ_W).reshape(-1));
        weights.add(prompt.get(SwinPromptMap.PROMPT_FACTORS).reshape(-1));
        double std = Nd4j.concat(0, weights.toArray(INDArray[]::new)).stdNumber().doubleValue();
        assertTrue(std > 0.017 && std < 0.023, "std " + std);
    }

    /**
     * A setting named for SA2VP on the ViT, {@code dropout}, sets both of SA2VP-Swin's dropouts (what mini-VTAB's
     * recipe row and {@code --dropout} give); the JSON keeps the two fields and no alias.
     */
    @Test
    void dropoutSetsBothDropouts() {
        Sa2vpSwinConfig config = (Sa2vpSwinConfig) TuningMethods.withSettings(Sa2vpSwinConfig.of(SWIN_B, 10),
                Map.of("dropout", 0.25));
        assertEquals(0.25, config.getAttentionDropout());
        assertEquals(0.25, config.getAdapterDropout());
        assertTrue(!config.toJson().contains("\"dropout\"") && !config.toJson().contains("settingAliases"),
                config.toJson());
        assertEquals(config, TuningMethods.fromJson(config.toJson()));
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> TuningMethods.withSettings(config, Map.of("deepPromptLayers", List.of())));
        assertTrue(unknown.getMessage().startsWith("method sa2vp has no setting 'deepPromptLayers'; its settings: "),
                unknown.getMessage());
    }

    @Test
    void badFieldsAreOneLineErrors() {
        Sa2vpSwinConfig config = Sa2vpSwinConfig.of(SWIN_B, 10);
        assertEquals("Sa2vpSwinConfig: interactionStage must be a stage index in [0, 4), got 4",
                assertThrows(IllegalArgumentException.class, () -> config.withInteractionStage(4).validated())
                        .getMessage());
        assertEquals("Sa2vpSwinConfig: imageToPromptBlocks must be distinct block indices in [0, 18) of stage 2, "
                + "got [0, 18]", assertThrows(IllegalArgumentException.class,
                () -> config.withImageToPromptBlocks(List.of(0, 18)).validated()).getMessage());
        assertEquals("Sa2vpSwinConfig: windowSize must be a positive odd number, got 4",
                assertThrows(IllegalArgumentException.class, () -> config.withWindowSize(4).validated())
                        .getMessage());
        assertEquals("Sa2vpSwinConfig: backbone must be a Swin Transformer configuration, got null",
                assertThrows(IllegalArgumentException.class, () -> config.withBackbone(null).validated())
                        .getMessage());
    }
}
