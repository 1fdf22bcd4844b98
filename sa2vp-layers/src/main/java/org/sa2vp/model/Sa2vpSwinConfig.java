package org.sa2vp.model;

import lombok.AllArgsConstructor;
import lombok.Builder;
import lombok.Data;
import lombok.NoArgsConstructor;
import lombok.With;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.swin.SwinCheckpoint;
import org.sa2vp.backbone.swin.SwinTransformerConfig;
import org.sa2vp.config.ConfigSupport;
import org.sa2vp.layers.Implementation;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * SA2VP on a Swin Transformer backbone, serialisable as JSON. The defaults compute what the authors' Swin variant
 * computes ({@code docs/AUTHORS-CODE.md} §2): a rank-8 prompt map on the first stage's grid through the frozen
 * patch-embedding norm, both streams through every frozen block and patch merging, interaction in stage 2 only
 * (image→prompt at blocks 0, 6, 12, prompt→image at the others), clipped 3×3 windows on the whole stage map,
 * interaction LayerNorm eps 1e-6, GELU adapters of width 8 without residual, γ = 0.5, dropout 0.1 on the
 * cross-attention output and in the adapters, stochastic depth 0.2 on the frozen blocks while training (the
 * backbone's {@code dropPathRate}), one head shared by both pooled streams, loss 0.8·CE(image) + 0.2·CE(prompt).
 * Every choice the authors hard-code is a field here.
 */
@Data
@Builder(toBuilder = true)
@With
@NoArgsConstructor
@AllArgsConstructor
public class Sa2vpSwinConfig implements DualStreamMethod {

    /** The authors' stochastic-depth rate on the frozen Swin blocks while training ({@code drop_path_rate}). */
    public static final double AUTHORS_DROP_PATH = 0.2;
    /** The authors' spacing of image→prompt blocks in the interaction stage ({@code n % 6 == 0}). */
    public static final int AUTHORS_IMAGE_TO_PROMPT_EVERY = 6;

    /** The frozen Swin SA2VP is built on; its own {@code numClasses} is ignored, its {@code dropPathRate} is used. */
    private SwinTransformerConfig backbone;
    /** Outputs of the new classifier: the classes of the task. */
    private int numClasses;
    /** Stage whose blocks interact (the authors': 2, the 18-block stage of Swin-B). */
    @Builder.Default
    private int interactionStage = 2;
    /** Blocks of the interaction stage where the image updates the prompt; the stage's other blocks update the image. */
    @Builder.Default
    private List<Integer> imageToPromptBlocks = List.of(0, 6, 12);
    /** Side c of the clipped c×c key window around each query's position; odd. */
    @Builder.Default
    private int windowSize = 3;
    /** Rank r of the prompt map (the authors' {@code inter_dim}). */
    @Builder.Default
    private int promptRank = 8;
    /** Adapter bottleneck width t (the authors' {@code Mlp_small} width). */
    @Builder.Default
    private int adapterSize = 8;
    /** γ, the weight of the interaction (the authors' {@code add_scale}). */
    @Builder.Default
    private double gamma = 0.5;
    /** λ in λ·CE(image) + (1−λ)·CE(prompt). */
    @Builder.Default
    private double lossWeight = 0.8;
    /** ε of the interaction's LayerNorms (the copied {@code norm1} and the trainable {@code ffn_norm}). */
    @Builder.Default
    private double interactionLayerNormEps = 1e-6;
    /** Dropout on the cross-attention output projection while training. */
    @Builder.Default
    private double attentionDropout = 0.1;
    /** Dropout inside the adapters (after the activation and after the up projection) while training. */
    @Builder.Default
    private double adapterDropout = 0.1;

    /**
     * The authors' defaults on any Swin: interaction in the stage with the most blocks (the first of equals; stage 2 of
     * every timm variant), image→prompt at every 6th block of it from 0, and the backbone's stochastic depth set to
     * {@value #AUTHORS_DROP_PATH}.
     */
    public static Sa2vpSwinConfig of(SwinTransformerConfig backbone, int numClasses) {
        List<Integer> depths = backbone.getDepths();
        int stage = 0;
        for (int i = 1; i < depths.size(); i++) {
            if (depths.get(i) > depths.get(stage)) {
                stage = i;
            }
        }
        List<Integer> imageToPrompt = new ArrayList<>();
        for (int n = 0; n < depths.get(stage); n += AUTHORS_IMAGE_TO_PROMPT_EVERY) {
            imageToPrompt.add(n);
        }
        return builder().backbone(backbone.headless().withDropPathRate(AUTHORS_DROP_PATH)).numClasses(numClasses)
                .interactionStage(stage).imageToPromptBlocks(List.copyOf(imageToPrompt)).build().validated();
    }

    /** {@code dropout}, SA2VP on the ViT's one setting for it, sets both dropouts here. */
    @Override
    public Map<String, List<String>> settingAliases() {
        return Map.of("dropout", List.of("attentionDropout", "adapterDropout"));
    }

    @Override
    public String methodName() {
        return Sa2vpMethods.SA2VP;
    }

    /** Blocks in the interaction stage. */
    public int interactionDepth() {
        return backbone.getDepths().get(interactionStage);
    }

    public boolean imageToPrompt(int block) {
        return imageToPromptBlocks.contains(block);
    }

    @Override
    public ComputationGraphConfiguration configuration(NeuralNetConfiguration.Builder globals) {
        return Sa2vpSwinModel.configuration(this, globals, Implementation.FAST);
    }

    @Override
    public void loadBackbone(ComputationGraph graph, BackboneCheckpoint checkpoint) {
        Sa2vpSwinModel.loadBackbone(graph, this, SwinCheckpoint.of(checkpoint));
    }

    @Override
    public long trainableParameters() {
        return SwinAuthorsNames.trainableWithoutHead(this) + (long) (backbone.featureWidth() + 1) * numClasses;
    }

    /** The trained tensors under the authors' names ({@link SwinAuthorsNames}), this configuration as metadata. */
    @Override
    public void writeTrained(Path file, ComputationGraph graph) {
        SwinAuthorsNames.write(file, graph, this);
    }

    /** A {@link #writeTrained} file of this configuration's method and architecture. */
    @Override
    public void loadTrained(ComputationGraph graph, Path file) {
        SwinAuthorsNames.read(file, graph, this);
    }

    @Override
    public Sa2vpSwinConfig validated() {
        check(backbone != null, "backbone", "a Swin Transformer configuration", null);
        backbone.validated();
        int stages = backbone.numStages();
        check(interactionStage >= 0 && interactionStage < stages, "interactionStage",
                "a stage index in [0, " + stages + ")", interactionStage);
        check(numClasses > 0, "numClasses", "> 0", numClasses);
        check(promptRank > 0, "promptRank", "> 0", promptRank);
        check(adapterSize > 0, "adapterSize", "> 0", adapterSize);
        check(windowSize > 0 && windowSize % 2 == 1, "windowSize", "a positive odd number", windowSize);
        check(lossWeight >= 0 && lossWeight <= 1, "lossWeight", "in [0, 1]", lossWeight);
        check(interactionLayerNormEps > 0, "interactionLayerNormEps", "> 0", interactionLayerNormEps);
        check(attentionDropout >= 0 && attentionDropout < 1, "attentionDropout", "in [0, 1)", attentionDropout);
        check(adapterDropout >= 0 && adapterDropout < 1, "adapterDropout", "in [0, 1)", adapterDropout);
        int depth = interactionDepth();
        check(imageToPromptBlocks != null && imageToPromptBlocks.stream().allMatch(i -> i != null && i >= 0
                && i < depth) && imageToPromptBlocks.stream().distinct().count() == imageToPromptBlocks.size(),
                "imageToPromptBlocks", "distinct block indices in [0, " + depth + ") of stage " + interactionStage,
                imageToPromptBlocks);
        return this;
    }

    private static void check(boolean ok, String field, String expected, Object actual) {
        ConfigSupport.check(ok, "Sa2vpSwinConfig", field, expected, actual);
    }

    @Override
    public String toJson() {
        return ConfigSupport.toJson(this);
    }

    public static Sa2vpSwinConfig fromJson(String json) {
        return ConfigSupport.fromJson(json, Sa2vpSwinConfig.class).validated();
    }
}
