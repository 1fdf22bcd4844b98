package org.sa2vp.baseline;

import lombok.AllArgsConstructor;
import lombok.Builder;
import lombok.Data;
import lombok.NoArgsConstructor;
import lombok.With;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.sa2vp.backbone.Backbone;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.Backbones;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.weights.SafetensorsReader;
import org.sa2vp.backbone.weights.SafetensorsWriter;
import org.sa2vp.backbone.weights.StateDict;
import org.sa2vp.config.ConfigSupport;
import org.sa2vp.layers.ClassifierLoss;
import org.sa2vp.layers.Parameters;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.method.TuningMethods;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The two baselines that put a new linear head on the pooled features of any {@link Backbone}, built only from the
 * backbone's own graph pieces ({@link Backbone#addFeatureExtractor}), so they work on every registered family:
 * <pre>
 *   image [B,C,H,W] → feature extractor → features [B,D] → head [B,classes] → output (softmax + CE)
 * </pre>
 * <ul>
 *   <li><b>linear probe</b> ({@code trainBackbone = false}, the paper's "Linear"): the backbone is frozen, only the
 *   head trains ({@code (D + 1)·classes} values);</li>
 *   <li><b>full fine-tuning</b> ({@code trainBackbone = true}, the paper's "Full"): every weight trains. Without
 *   a checkpoint loaded this is training from scratch, which is how {@code sa2vp pretrain} makes the bundled
 *   backbone.</li>
 * </ul>
 * Dropout is the backbone configuration's. On a ViT the graph is {@code VisionTransformer}'s classifier, vertex for
 * vertex. Its JSON {@code "method"} id is {@code "vit"}, the name it had when only ViTs existed.
 */
@Data
@Builder(toBuilder = true)
@With
@NoArgsConstructor
@AllArgsConstructor
public class HeadTuningConfig implements TuningMethod {

    public static final String LINEAR_PROBE = "linear-probe";
    public static final String FULL_FINETUNE = "full-finetune";
    /** Metadata key of the configuration JSON in {@link #writeTrained} files. */
    public static final String CONFIG_KEY = "sa2vp_method";

    public static final String INPUT = "image";
    public static final String HEAD = "head";
    public static final String OUTPUT = "output";

    /** The backbone whose pooled features feed the new head, of any registered family; its own head is not used. */
    private Backbone backbone;
    /** Outputs of the new linear head: the classes of the task. */
    private int numClasses;
    /** False: linear probe (frozen backbone); true: full fine-tuning. */
    private boolean trainBackbone;

    public static HeadTuningConfig linearProbe(Backbone backbone, int numClasses) {
        return new HeadTuningConfig(backbone, numClasses, false).validated();
    }

    public static HeadTuningConfig fullFineTuning(Backbone backbone, int numClasses) {
        return new HeadTuningConfig(backbone, numClasses, true).validated();
    }

    @Override
    public String methodName() {
        return trainBackbone ? FULL_FINETUNE : LINEAR_PROBE;
    }

    @Override
    public HeadTuningConfig validated() {
        ConfigSupport.check(backbone != null, "HeadTuningConfig", "backbone", "a backbone configuration", null);
        backbone.validated();
        ConfigSupport.check(numClasses > 0, "HeadTuningConfig", "numClasses", "> 0", numClasses);
        return this;
    }

    @Override
    public ComputationGraphConfiguration configuration(NeuralNetConfiguration.Builder globals) {
        validated();
        ComputationGraphConfiguration.GraphBuilder g = globals.graphBuilder().addInputs(INPUT)
                .setInputTypes(InputType.convolutional(backbone.getImageHeight(), backbone.getImageWidth(),
                        backbone.getInChannels()));
        String features = backbone.addFeatureExtractor(g, INPUT, trainBackbone);
        g.addLayer(HEAD, new DenseLayer.Builder().nIn(backbone.featureWidth()).nOut(numClasses)
                .activation(Activation.IDENTITY).build(), features);
        g.addLayer(OUTPUT, ClassifierLoss.softmax(numClasses, new LossMCXENT()), HEAD);
        return g.setOutputs(OUTPUT).build();
    }

    @Override
    public void loadBackbone(ComputationGraph graph, BackboneCheckpoint checkpoint) {
        backbone.loadFeatureExtractor(graph, checkpoint);
    }

    @Override
    public List<String> logitVertices() {
        return List.of(HEAD);
    }

    @Override
    public long trainableParameters() {
        long head = (long) (backbone.featureWidth() + 1) * numClasses;
        return trainBackbone ? backbone.parameterCount() + head : head;
    }

    /**
     * The trained tensors as float32 {@code .safetensors} under the backbone family's names, the head as
     * {@code head.weight [classes, D]} and {@code head.bias}: the head for a linear probe, the whole network for full
     * fine-tuning (then a complete checkpoint that the family's reader loads).
     */
    @Override
    public void writeTrained(Path file, ComputationGraph graph) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        if (trainBackbone) {
            StateDict features = backbone.exportFeatureExtractor(graph);
            for (String key : features.keys()) {
                out.put(key, features.get(key));
            }
        }
        Map<String, INDArray> head = Parameters.of(graph, HEAD);
        out.put("head.weight", head.get("W").transpose().dup('c'));
        out.put("head.bias", head.get("b").reshape(numClasses).dup());
        SafetensorsWriter.write(file, out, Map.of(CONFIG_KEY, toJson()));
    }

    /**
     * The head, and for full fine-tuning the feature extractor, from a {@link #writeTrained} file (the backbone
     * through its family's checkpoint reader).
     */
    @Override
    public void loadTrained(ComputationGraph graph, Path file) {
        TuningMethods.requireTrainedBy(this, SafetensorsReader.metadata(file).get(CONFIG_KEY), file.toString());
        if (trainBackbone) {
            backbone.loadFeatureExtractor(graph, Backbones.family(backbone.family()).read(file,
                    CheckpointOptions.of(backbone).withStrict(false)));
        }
        loadHead(graph, HEAD, SafetensorsReader.read(file), numClasses, backbone.featureWidth());
    }

    /** {@code head.weight [classes, D]} and {@code head.bias [classes]} into the dense layer {@code vertex}. */
    static void loadHead(ComputationGraph graph, String vertex, StateDict tensors, int classes, int width) {
        Parameters.assign(graph, vertex, "W", tensors.get("head.weight", classes, width).transpose());
        INDArray bias = Parameters.of(graph, vertex).get("b");
        Parameters.assign(graph, vertex, "b", tensors.get("head.bias", classes).reshape(bias.shape()));
    }

    @Override
    public String toJson() {
        return ConfigSupport.toJson(this);
    }

    public static HeadTuningConfig fromJson(String json) {
        return ConfigSupport.fromJson(json, HeadTuningConfig.class).validated();
    }
}
