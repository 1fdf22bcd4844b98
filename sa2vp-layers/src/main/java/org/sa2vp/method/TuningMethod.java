package org.sa2vp.method;

import org.sa2vp.train.Trainer;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonSubTypes;
import org.nd4j.shade.jackson.annotation.JsonTypeInfo;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.baseline.VitTuningConfig;
import org.sa2vp.baseline.VptConfig;
import org.sa2vp.model.Sa2vpConfig;

import java.nio.file.Path;
import java.util.List;

/**
 * What the {@link Trainer} adapts a ViT with: SA2VP ({@link Sa2vpConfig}) or one of the baselines the paper compares
 * against ({@link VitTuningConfig}: linear probe, full fine-tuning, training from scratch; {@link VptConfig}: VPT). Each is a serialisable
 * configuration that knows how to build its graph, put a pretrained backbone into it, label a batch, read its
 * logits and save what it trained, so one trainer, one evaluation and one command line serve every method.
 *
 * <p>JSON carries the method as {@code "method"}; a configuration without it is SA2VP (files written before the
 * baselines existed).
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "method", defaultImpl = Sa2vpConfig.class)
@JsonSubTypes({
        @JsonSubTypes.Type(value = Sa2vpConfig.class, name = "sa2vp"),
        @JsonSubTypes.Type(value = VitTuningConfig.class, name = "vit"),
        @JsonSubTypes.Type(value = VptConfig.class, name = "vpt")
})
public interface TuningMethod {

    /** Short name for tables and logs, e.g. {@code sa2vp}, {@code linear-probe}, {@code vpt-deep}. */
    String methodName();

    /** The ViT the method is built on (its own head, if any, is ignored: see {@link #getNumClasses()}). */
    VisionTransformerConfig getBackbone();

    int getNumClasses();

    /** This configuration if every field is valid; otherwise a one-line error naming the field. */
    TuningMethod validated();

    /** The DL4J graph on the given global settings (updater, seed, data type, regularisation). */
    ComputationGraphConfiguration configuration(NeuralNetConfiguration.Builder globals);

    /** Copies a pretrained ViT into the graph's backbone (everything but the new head and the method's own parts). */
    void loadBackbone(ComputationGraph graph, VitCheckpoint checkpoint);

    /** The label arrays {@code fit} needs for one-hot labels {@code [B, classes]}, one per graph output. */
    INDArray[] labels(INDArray oneHot);

    /**
     * The graph vertices holding logits {@code [B, classes]}, each with its weight in the loss
     * ({@link #lossWeights()}); the first one is the prediction.
     */
    List<String> logitVertices();

    /** The loss is {@code Σ_k lossWeights[k] · CE(logitVertices[k])}. */
    double[] lossWeights();

    /** Number of values the method trains, head included. */
    long trainableParameters();

    /** Writes what the method trained (not the frozen backbone) with this configuration as metadata. */
    void writeTrained(Path file, ComputationGraph graph);

    String toJson();
}
