package org.sa2vp.backbone.vit;

import lombok.AllArgsConstructor;
import lombok.Builder;
import lombok.Data;
import lombok.NoArgsConstructor;
import lombok.With;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sa2vp.backbone.Backbone;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.weights.StateDict;
import org.sa2vp.config.ConfigSupport;
import org.sa2vp.layers.Implementation;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The architecture of a plain ViT (Dosovitskiy et al.), serialisable as JSON. Defaults are those of Google's
 * checkpoints as the VPT/SA2VP code loads them: LayerNorm eps 1e-6, exact GELU, class token, qkv bias, MLP
 * ratio 4, class-token pooling, no dropout (the VPT training-time dropout of 0.1 is a separate choice, see
 * {@code dropout}).
 *
 * <p>{@code VisionTransformerConfig.named("vit_base_patch16_224")} gives timm's variants: tiny (192 wide,
 * 12 deep, 3 heads), small (384, 12, 6), base (768, 12, 12) and large (1024, 24, 16), each with patch 8,
 * 16 or 32 at 224×224.
 */
@Data
@Builder(toBuilder = true)
@With
@NoArgsConstructor
@AllArgsConstructor
public class VisionTransformerConfig implements Backbone {


    /** Variant name, or "custom". */
    @Builder.Default
    private String name = "custom";
    /** Channels of the input images {@code [B, inChannels, imageHeight, imageWidth]}; 3 for RGB. */
    @Builder.Default
    private int inChannels = 3;
    /** Input image height in pixels; a multiple of {@code patchSize}. */
    private int imageHeight;
    /** Input image width in pixels; a multiple of {@code patchSize}. */
    private int imageWidth;
    /** Side of the square patches, each one token (the patch embedding is a stride-{@code patchSize} convolution). */
    private int patchSize;
    /** Token width D. */
    private int hiddenSize;
    /** Number of transformer blocks. */
    private int depth;
    /** Attention heads per block; a divisor of {@code hiddenSize}. */
    private int numHeads;
    /** MLP width; 0 means {@code mlpRatio · hiddenSize}. */
    private int mlpSize;
    /** MLP width as a multiple of {@code hiddenSize}, used when {@code mlpSize} is 0. */
    @Builder.Default
    private double mlpRatio = 4.0;
    /** ε of every LayerNorm; 1e-6 as in Google's ViT checkpoints. */
    @Builder.Default
    private double layerNormEps = 1e-6;
    /** Whether a learned class token is put before the patch tokens (as token 0). */
    @Builder.Default
    private boolean classToken = true;
    /** Whether the query, key and value projections have biases. */
    @Builder.Default
    private boolean qkvBias = true;
    /** How the final token map becomes the feature vector; {@link TokenPooling#MEAN} when there is no class token. */
    @Builder.Default
    private TokenPooling pooling = TokenPooling.CLASS_TOKEN;
    /** Classifier outputs; 0 for a feature extractor without head. */
    private int numClasses;
    /**
     * Dropout after the embedding sum and inside every MLP while training (the VPT ViT uses 0.1, applied even
     * though the backbone is frozen); 0 by default.
     */
    private double dropout;

    private static final Map<String, int[]> FAMILIES = new LinkedHashMap<>();

    static {
        // width, depth, heads (timm vision_transformer.py)
        FAMILIES.put("tiny", new int[]{192, 12, 3});
        FAMILIES.put("small", new int[]{384, 12, 6});
        FAMILIES.put("base", new int[]{768, 12, 12});
        FAMILIES.put("large", new int[]{1024, 24, 16});
    }

    /** All named variants: {@code vit_{tiny,small,base,large}_patch{8,16,32}_224}. */
    public static List<String> variants() {
        return FAMILIES.keySet().stream()
                .flatMap(f -> java.util.stream.Stream.of(8, 16, 32).map(p -> "vit_" + f + "_patch" + p + "_224"))
                .toList();
    }

    /** A named variant (see {@link #variants()}), without a head. */
    public static VisionTransformerConfig named(String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("vit_(\\w+?)_patch(\\d+)_(\\d+)").matcher(name);
        if (!m.matches() || !FAMILIES.containsKey(m.group(1))) {
            throw new IllegalArgumentException("Unknown ViT variant '" + name + "'; known: " + variants());
        }
        int[] f = FAMILIES.get(m.group(1));
        int image = Integer.parseInt(m.group(3));
        return builder().name(name).imageHeight(image).imageWidth(image).patchSize(Integer.parseInt(m.group(2)))
                .hiddenSize(f[0]).depth(f[1]).numHeads(f[2]).build().validated();
    }

    @Override
    public String family() {
        return VitFamily.NAME;
    }

    /** One stage: the patch grid after the class token (if any), {@code depth} blocks of width D. */
    @Override
    public List<Stage> stages() {
        return List.of(new Stage(gridHeight(), gridWidth(), hiddenSize, depth, numHeads, classToken));
    }

    /** Values in the embedding, the blocks and the final norm (no head). */
    @Override
    public long parameterCount() {
        long d = hiddenSize, m = effectiveMlpSize();
        long embedding = d * inChannels * patchSize * patchSize + d + (long) numTokens() * d + (classToken ? d : 0);
        long block = 4 * d + 3 * d * d + (qkvBias ? 3 * d : 0) + d * d + d + 2 * d * m + m + d;
        return embedding + depth * block + 2 * d;
    }

    @Override
    public VisionTransformerConfig headless() {
        return withNumClasses(0);
    }

    @Override
    public boolean sameArchitecture(Backbone other) {
        return other instanceof VisionTransformerConfig o && hiddenSize == o.hiddenSize && depth == o.depth
                && numHeads == o.numHeads && patchSize == o.patchSize && inChannels == o.inChannels
                && imageHeight == o.imageHeight && imageWidth == o.imageWidth
                && effectiveMlpSize() == o.effectiveMlpSize() && qkvBias == o.qkvBias && classToken == o.classToken;
    }

    @Override
    public String describe() {
        return "width " + hiddenSize + ", depth " + depth + ", " + numHeads + " heads, patch " + patchSize + ", "
                + imageHeight + "x" + imageWidth + " images, " + inChannels + " channels, MLP " + effectiveMlpSize();
    }

    @Override
    public String addFeatureExtractor(ComputationGraphConfiguration.GraphBuilder graph, String input,
                                      boolean trainable) {
        return VisionTransformer.addFeatureExtractor(graph, validated(), input, !trainable, Implementation.FAST);
    }

    @Override
    public void loadFeatureExtractor(ComputationGraph graph, BackboneCheckpoint checkpoint) {
        VitCheckpoint.of(checkpoint).assignBackbone(graph, this);
    }

    @Override
    public StateDict exportFeatureExtractor(ComputationGraph graph) {
        return VitCheckpoint.export(graph, headless());
    }

    public int effectiveMlpSize() {
        return mlpSize > 0 ? mlpSize : (int) Math.round(mlpRatio * hiddenSize);
    }

    public int gridHeight() {
        return imageHeight / patchSize;
    }

    public int gridWidth() {
        return imageWidth / patchSize;
    }

    public int numTokens() {
        return gridHeight() * gridWidth() + (classToken ? 1 : 0);
    }

    /** Checks every field; returns this. Messages name the field and the expected value. */
    public VisionTransformerConfig validated() {
        check(inChannels > 0, "inChannels", "> 0", inChannels);
        check(patchSize > 0, "patchSize", "> 0", patchSize);
        check(imageHeight > 0 && patchSize > 0 && imageHeight % patchSize == 0, "imageHeight",
                "a positive multiple of patchSize " + patchSize, imageHeight);
        check(imageWidth > 0 && patchSize > 0 && imageWidth % patchSize == 0, "imageWidth",
                "a positive multiple of patchSize " + patchSize, imageWidth);
        check(hiddenSize > 0, "hiddenSize", "> 0", hiddenSize);
        check(depth > 0, "depth", "> 0", depth);
        check(numHeads > 0 && hiddenSize % numHeads == 0, "numHeads", "a divisor of hiddenSize " + hiddenSize,
                numHeads);
        check(effectiveMlpSize() > 0, "mlpSize", "> 0", effectiveMlpSize());
        check(layerNormEps > 0, "layerNormEps", "> 0", layerNormEps);
        check(pooling != null && (classToken || pooling == TokenPooling.MEAN), "pooling",
                "MEAN when there is no class token", pooling);
        check(numClasses >= 0, "numClasses", ">= 0", numClasses);
        check(dropout >= 0 && dropout < 1, "dropout", "in [0, 1)", dropout);
        return this;
    }

    private void check(boolean ok, String field, String expected, Object actual) {
        ConfigSupport.check(ok, "VisionTransformerConfig '" + name + "'", field, expected, actual);
    }

    @Override
    public String toJson() {
        return ConfigSupport.toJson(this);
    }

    public static VisionTransformerConfig fromJson(String json) {
        return ConfigSupport.fromJson(json, VisionTransformerConfig.class).validated();
    }
}
