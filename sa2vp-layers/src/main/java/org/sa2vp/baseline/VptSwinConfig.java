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
import org.sa2vp.backbone.swin.SwinCheckpoint;
import org.sa2vp.backbone.swin.SwinTransformerConfig;
import org.sa2vp.config.ConfigSupport;
import org.sa2vp.layers.Implementation;
import org.sa2vp.method.TuningMethod;

import java.nio.file.Path;
import java.util.List;

/**
 * The VPT baseline on a frozen Swin Transformer ({@link VptSwinModel}: the VPT authors'
 * {@code PromptedSwinTransformer}), serialisable as JSON (type {@code "vpt-swin"}). Defaults as VPT's: {@value VptConfig#DEFAULT_PROMPT_TOKENS} prompt
 * tokens, VPT-deep, no prompt dropout. {@link #of} also turns the backbone's stochastic depth off: VPT keeps the
 * frozen backbone in evaluation mode while training ({@code PromptedSwinTransformer.train}). The backbone's own
 * {@code numClasses} is ignored: VPT trains a new linear head of {@link #getNumClasses()} outputs. The trained file
 * is the ViT's VPT file: {@code prompts.k [P, D_stage]} per set and the head.
 */
@Data
@Builder(toBuilder = true)
@With
@NoArgsConstructor
@AllArgsConstructor
public class VptSwinConfig implements TuningMethod {

    /** The frozen Swin the prompt tokens are prepended to; its own {@code numClasses} is ignored. */
    private SwinTransformerConfig backbone;
    /** Outputs of the new linear head: the classes of the task. */
    private int numClasses;
    /** P, prompt tokens per set (VPT's {@code NUM_TOKENS}). */
    @Builder.Default
    private int numPromptTokens = VptConfig.DEFAULT_PROMPT_TOKENS;
    /** True: VPT-deep, one prompt set per block of every stage; false: VPT-shallow, one set before the first block. */
    @Builder.Default
    private boolean deep = true;
    /**
     * Dropout on the prompt tokens while training (VPT's {@code DROPOUT}, 0 by default), one mask per image (the
     * authors draw one mask per deep set for the whole batch).
     */
    private double promptDropout;

    /** VPT's defaults on a Swin: deep, 10 tokens, the backbone headless and without stochastic depth. */
    public static VptSwinConfig of(SwinTransformerConfig backbone, int numClasses) {
        return builder().backbone(backbone.headless().withDropPathRate(0)).numClasses(numClasses).build().validated();
    }

    @Override
    public String methodName() {
        return VptConfig.methodName(deep);
    }

    @Override
    public ComputationGraphConfiguration configuration(NeuralNetConfiguration.Builder globals) {
        return VptSwinModel.configuration(this, globals, Implementation.FAST);
    }

    @Override
    public void loadBackbone(ComputationGraph graph, BackboneCheckpoint checkpoint) {
        VptSwinModel.loadBackbone(graph, this, SwinCheckpoint.of(checkpoint));
    }

    @Override
    public List<String> logitVertices() {
        return List.of(VptSwinModel.HEAD);
    }

    @Override
    public long trainableParameters() {
        return VptSwinModel.trainableParameterCount(this);
    }

    /** Prompt sets: one per block of every stage when deep, else one. */
    public int numPromptSets() {
        return deep ? backbone.getDepths().stream().mapToInt(Integer::intValue).sum() : 1;
    }

    /** Every prompt set ({@code prompts.k}, {@code [P, D_stage]}) and the head as safetensors. */
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
    public VptSwinConfig validated() {
        ConfigSupport.check(backbone != null, "VptSwinConfig", "backbone", "a Swin configuration", null);
        backbone.validated();
        VptConfig.checkHeadAndPrompts("VptSwinConfig", numClasses, numPromptTokens, promptDropout);
        return this;
    }

    @Override
    public String toJson() {
        return ConfigSupport.toJson(this);
    }

    public static VptSwinConfig fromJson(String json) {
        return ConfigSupport.fromJson(json, VptSwinConfig.class).validated();
    }
}
