package org.sa2vp.baseline;

import lombok.AllArgsConstructor;
import lombok.Builder;
import lombok.Data;
import lombok.NoArgsConstructor;
import lombok.With;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.vit.VisionTransformer;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.backbone.weights.SafetensorsWriter;
import org.sa2vp.backbone.weights.StateDict;
import org.sa2vp.config.ConfigSupport;
import org.sa2vp.method.TuningMethod;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The two baselines that use the plain ViT graph ({@link VisionTransformer}) with a new linear head on the pooled
 * final features:
 * <ul>
 *   <li><b>linear probe</b> ({@code trainBackbone = false}, the paper's "Linear"): the backbone is frozen, only the
 *   head trains ({@code (D + 1)·classes} values);</li>
 *   <li><b>full fine-tuning</b> ({@code trainBackbone = true}, the paper's "Full"): every weight trains. Without
 *   a checkpoint loaded this is training from scratch, which is how {@code sa2vp pretrain} makes the bundled
 *   backbone.</li>
 * </ul>
 * Dropout is the backbone configuration's.
 */
@Data
@Builder(toBuilder = true)
@With
@NoArgsConstructor
@AllArgsConstructor
public class VitTuningConfig implements TuningMethod {

    public static final String LINEAR_PROBE = "linear-probe";
    public static final String FULL_FINETUNE = "full-finetune";
    /** Metadata key of the configuration JSON in {@link #writeTrained} files. */
    public static final String CONFIG_KEY = "sa2vp_method";

    private VisionTransformerConfig backbone;
    private int numClasses;
    /** False: linear probe (frozen backbone); true: full fine-tuning. */
    private boolean trainBackbone;

    public static VitTuningConfig linearProbe(VisionTransformerConfig backbone, int numClasses) {
        return new VitTuningConfig(backbone, numClasses, false).validated();
    }

    public static VitTuningConfig fullFineTuning(VisionTransformerConfig backbone, int numClasses) {
        return new VitTuningConfig(backbone, numClasses, true).validated();
    }

    @Override
    public String methodName() {
        return trainBackbone ? FULL_FINETUNE : LINEAR_PROBE;
    }

    /** The backbone with this task's head: the configuration the graph is built from. */
    public VisionTransformerConfig classifier() {
        return backbone.withNumClasses(numClasses);
    }

    @Override
    public VitTuningConfig validated() {
        ConfigSupport.check(backbone != null, "VitTuningConfig", "backbone", "a ViT configuration", null);
        backbone.validated();
        ConfigSupport.check(numClasses > 0, "VitTuningConfig", "numClasses", "> 0", numClasses);
        return this;
    }

    @Override
    public ComputationGraphConfiguration configuration(NeuralNetConfiguration.Builder globals) {
        return VisionTransformer.configuration(validated().classifier(), globals, !trainBackbone);
    }

    @Override
    public void loadBackbone(ComputationGraph graph, VitCheckpoint checkpoint) {
        checkpoint.assignBackbone(graph, classifier());
    }

    @Override
    public INDArray[] labels(INDArray oneHot) {
        return new INDArray[]{oneHot};
    }

    @Override
    public List<String> logitVertices() {
        return List.of(VisionTransformer.HEAD);
    }

    @Override
    public double[] lossWeights() {
        return new double[]{1};
    }

    @Override
    public long trainableParameters() {
        long head = (long) (backbone.getHiddenSize() + 1) * numClasses;
        return trainBackbone ? backboneParameters(backbone) + head : head;
    }

    /** Values in the embedding, the blocks and the final norm (no head). */
    public static long backboneParameters(VisionTransformerConfig c) {
        long d = c.getHiddenSize(), m = c.effectiveMlpSize();
        long embedding = d * c.getInChannels() * c.getPatchSize() * c.getPatchSize() + d
                + (long) c.numTokens() * d + (c.isClassToken() ? d : 0);
        long block = 4 * d + 3 * d * d + (c.isQkvBias() ? 3 * d : 0) + d * d + d + 2 * d * m + m + d;
        return embedding + c.getDepth() * block + 2 * d;
    }

    /**
     * The trained tensors under timm's names as float32 {@code .safetensors}: the head for a linear probe, the whole
     * network for full fine-tuning (a complete checkpoint that {@link VitCheckpoint#read} loads).
     */
    @Override
    public void writeTrained(Path file, ComputationGraph graph) {
        StateDict all = VitCheckpoint.export(graph, classifier());
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (String key : all.keys()) {
            if (trainBackbone || key.startsWith("head.")) {
                out.put(key, all.get(key));
            }
        }
        SafetensorsWriter.write(file, out, Map.of(CONFIG_KEY, toJson()));
    }

    @Override
    public String toJson() {
        return ConfigSupport.toJson(this);
    }

    public static VitTuningConfig fromJson(String json) {
        return ConfigSupport.fromJson(json, VitTuningConfig.class).validated();
    }
}
