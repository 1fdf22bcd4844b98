package org.sa2vp.baseline;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.sa2vp.backbone.vit.PatchEmbedding;
import org.sa2vp.backbone.vit.PooledLayerNorm;
import org.sa2vp.backbone.vit.TransformerBlock;
import org.sa2vp.backbone.vit.VisionTransformer;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.layers.ClassifierLoss;
import org.sa2vp.layers.Implementation;
import org.sa2vp.backbone.weights.SafetensorsReader;
import org.sa2vp.backbone.weights.SafetensorsWriter;
import org.sa2vp.backbone.weights.StateDict;
import org.sa2vp.layers.Parameters;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.method.TuningMethods;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * VPT (Visual Prompt Tuning, Jia et al., ECCV 2022), the baseline of the SA2VP paper, as a DL4J
 * {@link ComputationGraph} on the frozen ViT of {@link VisionTransformer}, with T = 1 + (H/p)·(W/p) tokens and P
 * prompt tokens per set:
 * <pre>
 *   image [B,C,H,W] → patch_embed [B,T,D]                    (frozen: patches, class token, position, dropout)
 *     → prompts.0  [B,T+P,D]   [cls ; prompts₀ ; patches]   ({@link VisualPromptTokens}, INSERT)
 *     → blocks.0 → prompts.1 → blocks.1 → … → blocks.{depth−1}
 *                  (deep only: prompts.i REPLACEs positions 1…P with block i's own prompts)
 *     → norm [B,D]  (frozen final LayerNorm of the class token, or of the mean patch token) → head [B,classes] → output (softmax + CE)
 * </pre>
 * VPT-shallow has {@code prompts.0} only: the prompts' outputs travel through all blocks. Trainable: the prompts
 * {@code [P, D]} of every set and the new linear head; everything else keeps its pretrained values bitwise. The
 * backbone's vertex names are the ViT's, so a {@link VitCheckpoint} loads into either graph.
 */
public final class VptModel {

    public static final String INPUT = VisionTransformer.INPUT;
    public static final String EMBEDDING = VisionTransformer.EMBEDDING;
    public static final String FEATURES = VisionTransformer.FEATURES;
    public static final String HEAD = VisionTransformer.HEAD;
    public static final String OUTPUT = VisionTransformer.OUTPUT;

    private VptModel() {
    }

    /** The prompt vertex in front of block {@code index}. */
    public static String prompts(int index) {
        return "prompts." + index;
    }

    public static String block(int index) {
        return VisionTransformer.block(index);
    }

    /** Float32, Adam(1e-3), seed 42 (which also seeds the prompt initialisation). */
    public static ComputationGraphConfiguration configuration(VptConfig config) {
        return configuration(config, new NeuralNetConfiguration.Builder().seed(42).dataType(DataType.FLOAT)
                .updater(new Adam(1e-3)));
    }

    /** Graph configuration on the given global settings (updater, seed, data type, regularisation). */
    public static ComputationGraphConfiguration configuration(VptConfig config, NeuralNetConfiguration.Builder globals) {
        return configuration(config, globals, Implementation.FAST);
    }

    /** As above, with the runtime of the backbone and prompt layers ({@link Implementation#SAMEDIFF}: the reference). */
    public static ComputationGraphConfiguration configuration(VptConfig config, NeuralNetConfiguration.Builder globals,
                                                              Implementation implementation) {
        config.validated();
        VisionTransformerConfig vit = config.getBackbone();
        int d = vit.getHiddenSize();
        double initBound = VisualPromptTokens.vptInitBound(vit.getInChannels(), vit.getPatchSize(), d);
        ComputationGraphConfiguration.GraphBuilder g = globals.graphBuilder().addInputs(INPUT)
                .setInputTypes(InputType.convolutional(vit.getImageHeight(), vit.getImageWidth(), vit.getInChannels()));
        g.addLayer(EMBEDDING, new PatchEmbedding.Builder().inChannels(vit.getInChannels())
                .imageSize(vit.getImageHeight(), vit.getImageWidth()).patchSize(vit.getPatchSize()).hiddenSize(d)
                .dropout(vit.getDropout()).implementation(implementation).build(), INPUT);
        String previous = EMBEDDING;
        for (int i = 0; i < vit.getDepth(); i++) {
            if (i == 0 || config.isDeep()) {
                g.addLayer(prompts(i), new VisualPromptTokens.Builder().hiddenSize(d)
                        .numPrompts(config.getNumPromptTokens())
                        .placement(i == 0 ? VisualPromptTokens.Placement.INSERT : VisualPromptTokens.Placement.REPLACE)
                        .promptDropout(config.getPromptDropout()).initBound(initBound).implementation(implementation)
                        .build(), previous);
                previous = prompts(i);
            }
            g.addLayer(block(i), new TransformerBlock.Builder().hiddenSize(d).numHeads(vit.getNumHeads())
                    .mlpSize(vit.effectiveMlpSize()).layerNormEps(vit.getLayerNormEps()).dropout(vit.getDropout())
                    .qkvBias(vit.isQkvBias()).implementation(implementation).build(), previous);
            previous = block(i);
        }
        g.addLayer(FEATURES, new PooledLayerNorm.Builder().hiddenSize(d).pooling(vit.getPooling())
                .promptTokens(config.getNumPromptTokens()).layerNormEps(vit.getLayerNormEps())
                .implementation(implementation).build(), previous);
        g.addLayer(HEAD, new DenseLayer.Builder().nIn(d).nOut(config.getNumClasses()).activation(Activation.IDENTITY)
                .build(), FEATURES);
        g.addLayer(OUTPUT, ClassifierLoss.softmax(config.getNumClasses(), new LossMCXENT()), HEAD);
        return g.setOutputs(OUTPUT).build();
    }

    /** A new, initialised graph: random backbone stand-ins, VPT-initialised prompts, a fresh head. */
    public static ComputationGraph create(VptConfig config) {
        ComputationGraph graph = new ComputationGraph(configuration(config));
        graph.init();
        return graph;
    }

    /** Copies a ViT checkpoint into the frozen parts (embedding, blocks, final norm); prompts and head keep theirs. */
    public static void loadBackbone(ComputationGraph graph, VptConfig config, VitCheckpoint checkpoint) {
        checkpoint.assignBackbone(graph, config.getBackbone());
    }

    /** The prompt set {@code [P, D]} in front of block {@code index} (a view: assign, do not replace). */
    public static INDArray promptTokens(ComputationGraph graph, int index) {
        return Parameters.of(graph, prompts(index)).get(VisualPromptTokens.PROMPTS);
    }

    /** The label arrays the graph trains on (one output). */
    public static INDArray[] labels(INDArray oneHot) {
        return new INDArray[]{oneHot};
    }

    /** Logits {@code [B, classes]} (before the softmax), inference mode. */
    public static INDArray logits(ComputationGraph graph, INDArray images) {
        return graph.feedForward(new INDArray[]{images}, false).get(HEAD);
    }

    /**
     * VPT's trained file on any backbone family: every prompt set ({@code prompts.i}, {@code [P, D_i]}) and the
     * head ({@code head.weight [classes, D]}, {@code head.bias}) as safetensors, the configuration as metadata.
     */
    static void writeTrained(Path file, ComputationGraph graph, TuningMethod config, int promptSets) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (int i = 0; i < promptSets; i++) {
            out.put(prompts(i), promptTokens(graph, i).dup());
        }
        Map<String, INDArray> head = Parameters.of(graph, HEAD);
        out.put("head.weight", head.get("W").transpose().dup('c'));
        out.put("head.bias", head.get("b").reshape(config.getNumClasses()).dup());
        SafetensorsWriter.write(file, out, Map.of(HeadTuningConfig.CONFIG_KEY, config.toJson()));
    }

    /** The inverse of {@link #writeTrained}, after checking the file was written by {@code config}. */
    static void loadTrained(ComputationGraph graph, Path file, TuningMethod config, int promptSets) {
        TuningMethods.requireTrainedBy(config, SafetensorsReader.metadata(file).get(HeadTuningConfig.CONFIG_KEY),
                file.toString());
        StateDict tensors = SafetensorsReader.read(file);
        for (int i = 0; i < promptSets; i++) {
            INDArray target = promptTokens(graph, i);
            target.assign(tensors.get(prompts(i), target.shape()));
        }
        HeadTuningConfig.loadHead(graph, HEAD, tensors, config.getNumClasses(), config.getBackbone().featureWidth());
    }

    /** Trained parameters: {@code sets·P·D} prompt values plus the head's {@code D·classes + classes}. */
    public static long trainableParameterCount(VptConfig config) {
        long d = config.getBackbone().getHiddenSize();
        return (long) config.numPromptSets() * config.getNumPromptTokens() * d + d * config.getNumClasses()
                + config.getNumClasses();
    }
}
