package org.sa2vp.baseline;

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
import org.sa2vp.method.TuningMethod;

import java.nio.file.Path;
import java.util.List;

/**
 * The VPT baseline (Visual Prompt Tuning, Jia et al., ECCV 2022) on a frozen ViT, serialisable as JSON. The
 * defaults are VPT's: 10 prompt tokens, VPT-deep (a new prompt set before every block), no prompt dropout. The
 * backbone's own {@code numClasses} is ignored: VPT trains a new linear head of {@link #getNumClasses()} outputs.
 * The backbone's {@code dropout} still applies to the frozen embedding and MLPs, as in VPT's ViT. The backbone's
 * pooling is kept: the class token (VPT), or the mean of the patch tokens, never of the prompt tokens.
 */
@Data
@Builder(toBuilder = true)
@With
@NoArgsConstructor
@AllArgsConstructor
public class VptConfig implements TuningMethod {

    /** The frozen ViT the prompt tokens are inserted into; its own {@code numClasses} is ignored. */
    private VisionTransformerConfig backbone;
    /** Outputs of the new linear head: the classes of the task. */
    private int numClasses;
    /** VPT's default number of prompt tokens per set ({@code NUM_TOKENS}), on every backbone family. */
    public static final int DEFAULT_PROMPT_TOKENS = 10;

    /** P, prompt tokens per set (VPT's {@code NUM_TOKENS}). */
    @Builder.Default
    private int numPromptTokens = DEFAULT_PROMPT_TOKENS;
    /** True: VPT-deep, one prompt set per block; false: VPT-shallow, one set before block 0. */
    @Builder.Default
    private boolean deep = true;
    /** Dropout on the prompt tokens while training (VPT's {@code DROPOUT}, 0 by default). */
    private double promptDropout;

    /** The defaults on a ViT. */
    public static VptConfig of(VisionTransformerConfig backbone, int numClasses) {
        return builder().backbone(backbone).numClasses(numClasses).build().validated();
    }

    @Override
    public String methodName() {
        return methodName(deep);
    }

    /** VPT's method name on every backbone family: {@code vpt-deep} or {@code vpt-shallow}. */
    static String methodName(boolean deep) {
        return deep ? "vpt-deep" : "vpt-shallow";
    }

    @Override
    public ComputationGraphConfiguration configuration(NeuralNetConfiguration.Builder globals) {
        return VptModel.configuration(this, globals);
    }

    @Override
    public void loadBackbone(ComputationGraph graph, BackboneCheckpoint checkpoint) {
        VptModel.loadBackbone(graph, this, VitCheckpoint.of(checkpoint));
    }

    @Override
    public List<String> logitVertices() {
        return List.of(VptModel.HEAD);
    }

    @Override
    public long trainableParameters() {
        return VptModel.trainableParameterCount(this);
    }

    /** The prompts ({@code prompts.i}, {@code [P, D]}) and the head ({@code head.weight/bias}) as safetensors. */
    @Override
    public void writeTrained(Path file, ComputationGraph graph) {
        VptModel.writeTrained(file, graph, this, numPromptSets());
    }

    @Override
    public void loadTrained(ComputationGraph graph, Path file) {
        VptModel.loadTrained(graph, file, this, numPromptSets());
    }

    /** Checks every field; returns this. Messages name the field, the expected and the actual value. */
    @Override
    public VptConfig validated() {
        check(backbone != null, "backbone", "a ViT configuration", null);
        backbone.validated();
        check(backbone.isClassToken(), "backbone.classToken", "true (VPT inserts the prompts after the class token)",
                false);
        checkHeadAndPrompts("VptConfig", numClasses, numPromptTokens, promptDropout);
        return this;
    }

    private static void check(boolean ok, String field, String expected, Object actual) {
        ConfigSupport.check(ok, "VptConfig", field, expected, actual);
    }

    /** The checks of the fields every VPT configuration has, after its backbone's; {@code owner} names it. */
    static void checkHeadAndPrompts(String owner, int numClasses, int numPromptTokens, double promptDropout) {
        ConfigSupport.check(numClasses > 0, owner, "numClasses", "> 0", numClasses);
        ConfigSupport.check(numPromptTokens > 0, owner, "numPromptTokens", ">= 1", numPromptTokens);
        ConfigSupport.check(promptDropout >= 0 && promptDropout < 1, owner, "promptDropout", "in [0, 1)",
                promptDropout);
    }

    /** Prompt sets: one per block when deep, else one. */
    public int numPromptSets() {
        return deep ? backbone.getDepth() : 1;
    }

    @Override
    public String toJson() {
        return ConfigSupport.toJson(this);
    }

    public static VptConfig fromJson(String json) {
        return ConfigSupport.fromJson(json, VptConfig.class).validated();
    }
}
