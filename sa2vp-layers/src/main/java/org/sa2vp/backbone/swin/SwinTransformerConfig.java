package org.sa2vp.backbone.swin;

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

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The architecture of a Swin Transformer (Liu et al. 2021), serialisable as JSON: a patch embedding (P×P stride-P
 * convolution and LayerNorm), stages of shifted-window blocks whose width doubles and whose token map halves from
 * one stage to the next (patch merging between stages), the final LayerNorm and average pooling over the tokens.
 * No class token, no absolute position embedding (the blocks' relative position bias instead). Defaults are those
 * of the Microsoft checkpoints as timm and torchvision load them: patch 4, window 7, MLP ratio 4, qkv bias, LayerNorm
 * eps 1e-5, exact GELU; no stochastic depth (the training recipes' 0.2–0.5 is a separate choice,
 * {@code dropPathRate}).
 *
 * <p>{@code SwinTransformerConfig.named("swin_base_patch4_window7_224")} gives timm's variants: tiny (embed 96,
 * depths 2-2-6-2, heads 3-6-12-24), small (96, 2-2-18-2, 3-6-12-24), base (128, 2-2-18-2, 4-8-16-32) and large (192,
 * 2-2-18-2, 6-12-24-48), window 7 at 224×224 and, for base and large, window 12 at 384×384.
 */
@Data
@Builder(toBuilder = true)
@With
@NoArgsConstructor
@AllArgsConstructor
public class SwinTransformerConfig implements Backbone {

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
    /** Side of the square patches of the embedding (its convolution's kernel and stride); 4 in every variant. */
    @Builder.Default
    private int patchSize = 4;
    /** Token width of the first stage; stage i is {@code embedDim·2^i} wide. */
    private int embedDim;
    /** Blocks per stage, e.g. {@code [2, 2, 18, 2]} (one entry per stage). */
    private List<Integer> depths;
    /** Attention heads per stage, each a divisor of its stage's width, e.g. {@code [4, 8, 16, 32]}. */
    private List<Integer> numHeads;
    /** Side of the square attention windows, in tokens. */
    @Builder.Default
    private int windowSize = 7;
    /** MLP width of every block as a multiple of its stage's width. */
    @Builder.Default
    private double mlpRatio = 4.0;
    /** Whether the query, key and value projections have biases. */
    @Builder.Default
    private boolean qkvBias = true;
    /** ε of every LayerNorm; PyTorch's 1e-5, which the Swin checkpoints use. */
    @Builder.Default
    private double layerNormEps = 1e-5;
    /**
     * Stochastic depth while training: block k of all K blocks (counted over the stages) drops its residual branches
     * with probability {@code dropPathRate·k/(K−1)}, as Microsoft's code, timm and torchvision schedule it; 0 by
     * default.
     */
    private double dropPathRate;
    /** Classifier outputs; 0 for a feature extractor without head. */
    private int numClasses;

    /** timm's variants: embed dim, depths, heads, window, image size. */
    private record Variant(int embedDim, List<Integer> depths, List<Integer> heads, int window, int image) {
    }

    private static final Map<String, Variant> VARIANTS = new LinkedHashMap<>();

    static {
        List<Integer> deep = List.of(2, 2, 18, 2);
        VARIANTS.put("swin_tiny_patch4_window7_224", new Variant(96, List.of(2, 2, 6, 2), List.of(3, 6, 12, 24), 7,
                224));
        VARIANTS.put("swin_small_patch4_window7_224", new Variant(96, deep, List.of(3, 6, 12, 24), 7, 224));
        VARIANTS.put("swin_base_patch4_window7_224", new Variant(128, deep, List.of(4, 8, 16, 32), 7, 224));
        VARIANTS.put("swin_base_patch4_window12_384", new Variant(128, deep, List.of(4, 8, 16, 32), 12, 384));
        VARIANTS.put("swin_large_patch4_window7_224", new Variant(192, deep, List.of(6, 12, 24, 48), 7, 224));
        VARIANTS.put("swin_large_patch4_window12_384", new Variant(192, deep, List.of(6, 12, 24, 48), 12, 384));
    }

    /** All named variants, as timm names them. */
    public static List<String> variants() {
        return List.copyOf(VARIANTS.keySet());
    }

    /** A named variant (see {@link #variants()}), without a head. */
    public static SwinTransformerConfig named(String name) {
        Variant v = VARIANTS.get(name);
        if (v == null) {
            throw new IllegalArgumentException("Unknown Swin variant '" + name + "'; known: " + variants());
        }
        return builder().name(name).imageHeight(v.image()).imageWidth(v.image()).embedDim(v.embedDim())
                .depths(v.depths()).numHeads(v.heads()).windowSize(v.window()).build().validated();
    }

    @Override
    public String family() {
        return SwinFamily.NAME;
    }

    /** Number of stages. */
    public int numStages() {
        return depths.size();
    }

    /** Token width of stage {@code stage}: {@code embedDim·2^stage}. */
    public int stageWidth(int stage) {
        return embedDim << stage;
    }

    /** MLP width of the blocks of stage {@code stage}: {@code ⌊mlpRatio·width⌋}, as timm and torchvision. */
    public int stageMlpSize(int stage) {
        return (int) (mlpRatio * stageWidth(stage));
    }

    /** The token map {@code {height, width}} of stage {@code stage}: the patch grid, halved (rounding up) per merge. */
    public int[] stageGrid(int stage) {
        int h = imageHeight / patchSize, w = imageWidth / patchSize;
        for (int i = 0; i < stage; i++) {
            h = (h + 1) / 2;
            w = (w + 1) / 2;
        }
        return new int[]{h, w};
    }

    /** Stochastic depth rate of block {@code block} (counted over all stages from 0). */
    public double blockDropPath(int block) {
        int blocks = depths.stream().mapToInt(Integer::intValue).sum();
        return blocks > 1 ? dropPathRate * block / (blocks - 1) : 0.0;
    }

    /** The stages: maps, widths, depths and heads, none with a class token. */
    @Override
    public List<Stage> stages() {
        List<Stage> stages = new ArrayList<>();
        for (int i = 0; i < numStages(); i++) {
            int[] grid = stageGrid(i);
            stages.add(new Stage(grid[0], grid[1], stageWidth(i), depths.get(i), numHeads.get(i), false));
        }
        return stages;
    }

    /** Values in the patch embedding, the stages with their patch mergings and the final norm (no head). */
    @Override
    public long parameterCount() {
        long embedding = (long) embedDim * inChannels * patchSize * patchSize + embedDim + 2L * embedDim;
        long total = embedding;
        long table = (long) (2 * windowSize - 1) * (2 * windowSize - 1);
        for (int i = 0; i < numStages(); i++) {
            long d = stageWidth(i), m = stageMlpSize(i);
            if (i > 0) {
                long c = stageWidth(i - 1);
                total += 2 * 4 * c + 4 * c * 2 * c;
            }
            long block = 2 * d + 3 * d * d + (qkvBias ? 3 * d : 0) + d * d + d + table * numHeads.get(i) + 2 * d
                    + d * m + m + m * d + d;
            total += depths.get(i) * block;
        }
        return total + 2L * featureWidth();
    }

    @Override
    public int featureWidth() {
        return stageWidth(numStages() - 1);
    }

    @Override
    public SwinTransformerConfig headless() {
        return withNumClasses(0);
    }

    /** Swin has no dropout: the training-time randomness inside it is stochastic depth, whose rate this sets. */
    @Override
    public SwinTransformerConfig withDropout(double dropout) {
        return withDropPathRate(dropout);
    }

    @Override
    public boolean sameArchitecture(Backbone other) {
        return other instanceof SwinTransformerConfig o && embedDim == o.embedDim && depths.equals(o.depths)
                && numHeads.equals(o.numHeads) && windowSize == o.windowSize && patchSize == o.patchSize
                && inChannels == o.inChannels && imageHeight == o.imageHeight && imageWidth == o.imageWidth
                && mlpRatio == o.mlpRatio && qkvBias == o.qkvBias;
    }

    @Override
    public String describe() {
        return "embed " + embedDim + ", depths " + depths + ", heads " + numHeads + ", window " + windowSize
                + ", patch " + patchSize + ", " + imageHeight + "x" + imageWidth + " images, " + inChannels
                + " channels, MLP ratio " + mlpRatio;
    }

    @Override
    public String addFeatureExtractor(ComputationGraphConfiguration.GraphBuilder graph, String input,
                                      boolean trainable) {
        return SwinTransformer.addFeatureExtractor(graph, validated(), input, !trainable, Implementation.FAST);
    }

    @Override
    public void loadFeatureExtractor(ComputationGraph graph, BackboneCheckpoint checkpoint) {
        SwinCheckpoint.of(checkpoint).assignBackbone(graph, this);
    }

    @Override
    public StateDict exportFeatureExtractor(ComputationGraph graph) {
        return SwinCheckpoint.export(graph, headless());
    }

    /** Checks every field; returns this. Messages name the field and the expected value. */
    @Override
    public SwinTransformerConfig validated() {
        check(inChannels > 0, "inChannels", "> 0", inChannels);
        check(patchSize > 0, "patchSize", "> 0", patchSize);
        check(imageHeight > 0 && patchSize > 0 && imageHeight % patchSize == 0, "imageHeight",
                "a positive multiple of patchSize " + patchSize, imageHeight);
        check(imageWidth > 0 && patchSize > 0 && imageWidth % patchSize == 0, "imageWidth",
                "a positive multiple of patchSize " + patchSize, imageWidth);
        check(embedDim > 0, "embedDim", "> 0", embedDim);
        check(depths != null && !depths.isEmpty() && depths.stream().allMatch(d -> d != null && d > 0), "depths",
                "one positive number of blocks per stage", depths);
        check(numHeads != null && numHeads.size() == depths.size(), "numHeads",
                "one entry per stage (" + depths.size() + ")", numHeads);
        for (int i = 0; i < numHeads.size(); i++) {
            Integer heads = numHeads.get(i);
            check(heads != null && heads > 0 && stageWidth(i) % heads == 0, "numHeads",
                    "divisors of the stage widths " + stageWidths(), numHeads);
        }
        check(windowSize > 0, "windowSize", "> 0", windowSize);
        check(mlpRatio > 0 && stageMlpSize(0) > 0, "mlpRatio", "> 0", mlpRatio);
        check(layerNormEps > 0, "layerNormEps", "> 0", layerNormEps);
        check(dropPathRate >= 0 && dropPathRate < 1, "dropPathRate", "in [0, 1)", dropPathRate);
        check(numClasses >= 0, "numClasses", ">= 0", numClasses);
        return this;
    }

    private List<Integer> stageWidths() {
        List<Integer> widths = new ArrayList<>();
        for (int i = 0; i < depths.size(); i++) {
            widths.add(stageWidth(i));
        }
        return widths;
    }

    private void check(boolean ok, String field, String expected, Object actual) {
        ConfigSupport.check(ok, "SwinTransformerConfig '" + name + "'", field, expected, actual);
    }

    @Override
    public String toJson() {
        return ConfigSupport.toJson(this);
    }

    public static SwinTransformerConfig fromJson(String json) {
        return ConfigSupport.fromJson(json, SwinTransformerConfig.class).validated();
    }
}
