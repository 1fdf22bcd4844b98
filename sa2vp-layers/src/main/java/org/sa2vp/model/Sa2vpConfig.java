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
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.config.ConfigSupport;
import org.sa2vp.layers.AttentionMode;
import org.sa2vp.layers.Implementation;
import org.sa2vp.layers.runtime.AdapterActivation;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * SA2VP on a ViT backbone, serialisable as JSON. The defaults compute what the authors' code computes
 * ({@code docs/AUTHORS-CODE.md} §1; where they differ from the paper: §4): prompt maps of rank 16, image→prompt interaction at layers
 * {0, 4, 8} and prompt→image at the others, deep prompt maps at layers 4 and 8, γ = 0.1, clipped 3×3 windows,
 * GELU adapters of width 16, dropout 0.1, loss 0.8·CE(image) + 0.2·CE(prompt). Where the authors hard-code, this
 * is general: any ViT, image and patch size, window, rank, adapter width, γ, λ, layer sets.
 *
 * <p>The paper's ablations (Table 5): {@code attentionMode(GLOBAL)} (no spatial alignment),
 * {@code adapter(false)}, {@code deepPromptLayers(List.of())}, {@code lossWeight(1.0)} (no prompt supervision).
 */
@Data
@Builder(toBuilder = true)
@With
@NoArgsConstructor
@AllArgsConstructor
public class Sa2vpConfig implements DualStreamMethod {

    /** The frozen ViT SA2VP is built on; its own {@code numClasses} is ignored. */
    private VisionTransformerConfig backbone;
    /** Outputs of the new classifier: the classes of the task. */
    private int numClasses;
    /** Rank r of the prompt maps (the authors' {@code inner_dim}). */
    @Builder.Default
    private int promptRank = 16;
    /** Adapter bottleneck width t (the authors' {@code Mlp_small} width). */
    @Builder.Default
    private int adapterSize = 16;
    /** The adapter's activation: GELU (the authors' code) or ReLU (the paper's text). */
    @Builder.Default
    private AdapterActivation adapterActivation = AdapterActivation.GELU;
    /** False: the interaction is the cross-attention output alone (ablation "w/o adapter"). */
    @Builder.Default
    private boolean adapter = true;
    /** γ, the weight of the interaction (the authors' {@code add_scale}). */
    @Builder.Default
    private double gamma = 0.1;
    /** λ in λ·CE(image) + (1−λ)·CE(prompt). */
    @Builder.Default
    private double lossWeight = 0.8;
    /** Side c of the c×c key window around each query's aligned position in {@code LOCAL} mode; odd. */
    @Builder.Default
    private int windowSize = 3;
    /** {@code LOCAL}: spatially aligned windows (SA2VP); {@code GLOBAL}: every key (ablation "w/o spatial alignment"). */
    @Builder.Default
    private AttentionMode attentionMode = AttentionMode.LOCAL;
    /** Layers where the image stream updates the prompt; all other layers update the image from the prompt. */
    @Builder.Default
    private List<Integer> imageToPromptLayers = List.of(0, 4, 8);
    /** Layers where a new (deep) prompt map is injected, in order (map j at the j-th listed layer). */
    @Builder.Default
    private List<Integer> deepPromptLayers = List.of(4, 8);
    /** Dropout probability wherever the authors' code has dropout (embeddings, backbone MLP, cross attention, adapter). */
    @Builder.Default
    private double dropout = 0.1;

    /**
     * The defaults on any ViT. The authors' layer sets for 12 blocks, image→prompt at {0, 4, 8} and deep prompts at
     * {4, 8}, are the starts of the depth's thirds; other depths get their own thirds (6 blocks: {0, 2, 4} and
     * {2, 4}), so the same schedule of interaction holds on every backbone.
     */
    public static Sa2vpConfig of(VisionTransformerConfig backbone, int numClasses) {
        int third = Math.max(1, backbone.getDepth() / 3);
        List<Integer> starts = backbone.getDepth() >= 3 ? List.of(0, third, 2 * third) : List.of(0);
        return builder().backbone(backbone).numClasses(numClasses).imageToPromptLayers(starts)
                .deepPromptLayers(starts.subList(1, starts.size())).build().validated();
    }

    @Override
    public String methodName() {
        return "sa2vp";
    }

    @Override
    public ComputationGraphConfiguration configuration(NeuralNetConfiguration.Builder globals) {
        return Sa2vpModel.configuration(this, globals, Implementation.FAST);
    }

    @Override
    public void loadBackbone(ComputationGraph graph, BackboneCheckpoint checkpoint) {
        Sa2vpModel.loadBackbone(graph, this, VitCheckpoint.of(checkpoint));
    }

    @Override
    public long trainableParameters() {
        return AuthorsNames.trainableWithoutHead(this) + (long) (backbone.getHiddenSize() + 1) * numClasses;
    }

    /** The adapter file ({@link AdapterFile}): the trained tensors under the authors' names. */
    @Override
    public void writeTrained(Path file, ComputationGraph graph) {
        AdapterFile.write(file, graph, this);
    }

    /** The adapter file's tensors, which must have been trained with this configuration ({@link AdapterFile#load}). */
    @Override
    public void loadTrained(ComputationGraph graph, Path file) {
        AdapterFile.load(file, graph, this);
    }

    @Override
    public Sa2vpConfig validated() {
        check(backbone != null, "backbone", "a ViT configuration", null);
        backbone.validated();
        check(backbone.isClassToken(), "backbone", "a ViT with a class token (SA2VP predicts from it)", "none");
        check(numClasses > 0, "numClasses", "> 0", numClasses);
        check(promptRank > 0, "promptRank", "> 0", promptRank);
        check(adapterSize > 0, "adapterSize", "> 0", adapterSize);
        check(adapterActivation != null, "adapterActivation", "GELU or RELU", adapterActivation);
        check(lossWeight >= 0 && lossWeight <= 1, "lossWeight", "in [0, 1]", lossWeight);
        check(windowSize > 0 && windowSize % 2 == 1, "windowSize", "a positive odd number", windowSize);
        check(attentionMode != null, "attentionMode", "LOCAL or GLOBAL", attentionMode);
        check(dropout >= 0 && dropout < 1, "dropout", "in [0, 1)", dropout);
        int depth = backbone.getDepth();
        for (List<Integer> set : Arrays.asList(imageToPromptLayers, deepPromptLayers)) {
            check(set != null && set.stream().allMatch(i -> i >= 0 && i < depth) && set.stream().distinct().count()
                    == set.size(), set == imageToPromptLayers ? "imageToPromptLayers" : "deepPromptLayers",
                    "distinct layer indices in [0, " + depth + ")", set);
        }
        return this;
    }

    private static void check(boolean ok, String field, String expected, Object actual) {
        ConfigSupport.check(ok, "Sa2vpConfig", field, expected, actual);
    }

    public boolean imageToPrompt(int layer) {
        return imageToPromptLayers.contains(layer);
    }

    /** Index j of the deep map injected at {@code layer}, or -1. */
    public int deepPromptIndex(int layer) {
        return deepPromptLayers.indexOf(layer);
    }

    @Override
    public String toJson() {
        return ConfigSupport.toJson(this);
    }

    public static Sa2vpConfig fromJson(String json) {
        return ConfigSupport.fromJson(json, Sa2vpConfig.class).validated();
    }
}
