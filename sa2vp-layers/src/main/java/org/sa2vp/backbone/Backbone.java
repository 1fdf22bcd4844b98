package org.sa2vp.backbone;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.shade.jackson.annotation.JsonTypeInfo;
import org.nd4j.shade.jackson.databind.annotation.JsonTypeIdResolver;
import org.sa2vp.backbone.weights.StateDict;
import org.sa2vp.config.JsonTypes;

import java.util.List;

/**
 * A frozen pretrained feature extractor that SA2VP and every baseline can be built on: the serialisable
 * configuration of one backbone family (named variants, JSON with a {@code "family"} id), the shape of its input
 * and of its token grids per stage, and the graph pieces a method needs that do not depend on the method (the
 * whole feature extractor, its weights in and out). How a checkpoint file becomes weights is the family's
 * ({@link BackboneFamily#read}); the method-specific graphs (SA2VP's dual pathway, VPT's prompt tokens) are the
 * methods', registered per family ({@code org.sa2vp.method.TuningMethods}).
 *
 * <p>Families register with {@link Backbones} (a {@link BackboneFamily} in
 * {@code META-INF/services/org.sa2vp.backbone.BackboneFamily}); this interface names none of them. JSON written
 * before the {@code "family"} id existed is a ViT: the ViT family registers itself as the untagged family.
 *
 * <h2>The check of the design: Swin</h2>
 * A hierarchical Swin Transformer (windowed attention, patch merging, no class token) fits without a change to the
 * trainer, {@code TuningMethod} or the command line, as the Swin family ({@code org.sa2vp.backbone.swin}) shows:
 * <ul>
 *   <li>{@code SwinTransformerConfig implements Backbone}, {@code family() = "swin"}, with timm's variants
 *   ({@code swin_base_patch4_window7_224}, ...) as {@link BackboneFamily#variant}s. {@link #stages()} lists four
 *   stages, e.g. for Swin-B at 224: 56×56×128 (depth 2), 28×28×256 (2), 14×14×512 (18), 7×7×1024 (2), none with a
 *   class token; {@link #featureWidth()} is the last stage's 1024.</li>
 *   <li>{@link #addFeatureExtractor} adds patch embedding, the four stages (shifted-window blocks with their
 *   relative position bias, patch merging between stages) and the final norm with average pooling, and returns the
 *   pooled vertex; {@link #loadFeatureExtractor}/{@link #exportFeatureExtractor} use the family's one weight-name
 *   table. The linear probe and full fine-tuning ({@code HeadTuningConfig}) then work on Swin as they are.</li>
 *   <li>{@code SwinCheckpoint implements BackboneCheckpoint}, read by the family's {@link BackboneFamily#read},
 *   which also says which files it {@link BackboneFamily#recognises} (Swin keys such as
 *   {@code layers.0.blocks.0.attn.relative_position_bias_table}), so {@code sa2vp train --backbone FILE} picks the
 *   family from the file.</li>
 *   <li>SA2VP-Swin (prompt maps following the hierarchy, interaction in stage 3 only) is a method configuration
 *   ({@code Sa2vpSwinConfig}) registered for family {@code "swin"} under the existing name {@code sa2vp}, so
 *   {@code TuningMethods.create("sa2vp", swin, classes)} picks it; VPT on Swin will be registered the same way under
 *   {@code vpt-deep}.</li>
 * </ul>
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.CUSTOM, property = "family")
@JsonTypeIdResolver(Backbone.JsonIds.class)
public interface Backbone {

    /** The registered family name, e.g. {@code vit}; also the JSON {@code "family"} id. */
    String family();

    /** Variant name (e.g. {@code vit_base_patch16_224}), or {@code custom}. */
    String getName();

    int getInChannels();

    int getImageHeight();

    int getImageWidth();

    /** Token grids from input to output; a plain ViT has one stage, Swin four. */
    List<Stage> stages();

    /** Width D of the pooled features {@code [B, D]} that a classification head reads. */
    default int featureWidth() {
        List<Stage> stages = stages();
        return stages.get(stages.size() - 1).width();
    }

    /** Values in the feature extractor (no classification head). */
    long parameterCount();

    /** This backbone without a classification head of its own (methods bring theirs). */
    Backbone headless();

    /** Dropout while training inside the backbone, where the family has any. */
    Backbone withDropout(double dropout);

    /** This configuration if every field is valid; otherwise a one-line error naming the field. */
    Backbone validated();

    /**
     * Whether {@code other} has the same architecture (what weights trained on one fit the other: widths, depths,
     * heads, patch and image size, channels), whatever the names, dropout and heads.
     */
    boolean sameArchitecture(Backbone other);

    /** One line for messages, e.g. "width 768, depth 12, 12 heads, patch 16, 224x224 images, 3 channels". */
    String describe();

    /**
     * Adds the feature extractor to {@code graph} reading images {@code [B, C, H, W]} from vertex {@code input}:
     * frozen unless {@code trainable} (weights never change, gradients still reach the input). Returns the vertex
     * of pooled features {@code [B, featureWidth()]}.
     */
    String addFeatureExtractor(ComputationGraphConfiguration.GraphBuilder graph, String input, boolean trainable);

    /** Copies a checkpoint of this family into the vertices {@link #addFeatureExtractor} added. */
    void loadFeatureExtractor(ComputationGraph graph, BackboneCheckpoint checkpoint);

    /** The weights of those vertices under the family's checkpoint names (what {@link BackboneFamily#read} reads). */
    StateDict exportFeatureExtractor(ComputationGraph graph);

    String toJson();

    /**
     * One stage of the backbone: its token grid {@code gridHeight × gridWidth} (row-major, after a class token when
     * there is one), token width, number of blocks and attention heads.
     */
    record Stage(int gridHeight, int gridWidth, int width, int depth, int numHeads, boolean classToken) {
        public int numTokens() {
            return gridHeight * gridWidth + (classToken ? 1 : 0);
        }
    }

    /** The registered family ids ({@link Backbones#JSON_TYPES}) as Jackson's type id resolver. */
    final class JsonIds extends JsonTypes.Resolver {
        public JsonIds() {
            super(Backbones.JSON_TYPES);
        }
    }
}
