package org.sa2vp.extension;

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
import java.util.Objects;

/**
 * A tuning method that exists only in the test sources, as a user's extension would: an MLP probe (a ReLU hidden
 * layer of {@code hiddenSize} and a linear head on the frozen backbone's pooled features), built from
 * {@link Backbone}'s own graph pieces, so it runs on any family. It is registered by {@link MlpProbeMethods}
 * through {@code src/test/resources/META-INF/services/org.sa2vp.method.TuningMethodProvider}; no production file
 * names it. Plain Java (getters and setters) for Jackson, as a user without Lombok would write it.
 */
public final class MlpProbeConfig implements TuningMethod {

    public static final String NAME = "mlp-probe";
    static final String INPUT = "image";
    static final String HIDDEN = "hidden";
    static final String HEAD = "head";
    static final String OUTPUT = "output";
    private static final String CONFIG_KEY = "sa2vp_method";

    private Backbone backbone;
    private int numClasses;
    private int hiddenSize = 64;

    public MlpProbeConfig() {
    }

    public MlpProbeConfig(Backbone backbone, int numClasses) {
        this.backbone = backbone;
        this.numClasses = numClasses;
    }

    @Override
    public String methodName() {
        return NAME;
    }

    @Override
    public Backbone getBackbone() {
        return backbone;
    }

    public void setBackbone(Backbone backbone) {
        this.backbone = backbone;
    }

    @Override
    public int getNumClasses() {
        return numClasses;
    }

    public void setNumClasses(int numClasses) {
        this.numClasses = numClasses;
    }

    public int getHiddenSize() {
        return hiddenSize;
    }

    public void setHiddenSize(int hiddenSize) {
        this.hiddenSize = hiddenSize;
    }

    @Override
    public MlpProbeConfig validated() {
        ConfigSupport.check(backbone != null, "MlpProbeConfig", "backbone", "a backbone configuration", null);
        backbone.validated();
        ConfigSupport.check(numClasses > 0, "MlpProbeConfig", "numClasses", "> 0", numClasses);
        ConfigSupport.check(hiddenSize > 0, "MlpProbeConfig", "hiddenSize", "> 0", hiddenSize);
        return this;
    }

    @Override
    public ComputationGraphConfiguration configuration(NeuralNetConfiguration.Builder globals) {
        validated();
        ComputationGraphConfiguration.GraphBuilder g = globals.graphBuilder().addInputs(INPUT)
                .setInputTypes(InputType.convolutional(backbone.getImageHeight(), backbone.getImageWidth(),
                        backbone.getInChannels()));
        String features = backbone.addFeatureExtractor(g, INPUT, false);
        g.addLayer(HIDDEN, new DenseLayer.Builder().nIn(backbone.featureWidth()).nOut(hiddenSize)
                .activation(Activation.RELU).build(), features);
        g.addLayer(HEAD, new DenseLayer.Builder().nIn(hiddenSize).nOut(numClasses).activation(Activation.IDENTITY)
                .build(), HIDDEN);
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
        return (long) (backbone.featureWidth() + 1) * hiddenSize + (long) (hiddenSize + 1) * numClasses;
    }

    @Override
    public void writeTrained(Path file, ComputationGraph graph) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (String vertex : List.of(HIDDEN, HEAD)) {
            Map<String, INDArray> p = Parameters.of(graph, vertex);
            out.put(vertex + ".weight", p.get("W").dup('c'));
            out.put(vertex + ".bias", p.get("b").dup('c'));
        }
        SafetensorsWriter.write(file, out, Map.of(CONFIG_KEY, toJson()));
    }

    @Override
    public void loadTrained(ComputationGraph graph, Path file) {
        TuningMethods.requireTrainedBy(this, SafetensorsReader.metadata(file).get(CONFIG_KEY), file.toString());
        StateDict tensors = SafetensorsReader.read(file);
        for (String vertex : List.of(HIDDEN, HEAD)) {
            Parameters.assign(graph, vertex, "W", tensors.get(vertex + ".weight"));
            Parameters.assign(graph, vertex, "b", tensors.get(vertex + ".bias"));
        }
    }

    @Override
    public String toJson() {
        return ConfigSupport.toJson(this);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MlpProbeConfig other && numClasses == other.numClasses && hiddenSize == other.hiddenSize
                && Objects.equals(backbone, other.backbone);
    }

    @Override
    public int hashCode() {
        return Objects.hash(backbone, numClasses, hiddenSize);
    }
}
