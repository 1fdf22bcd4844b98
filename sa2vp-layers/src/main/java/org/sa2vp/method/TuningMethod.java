package org.sa2vp.method;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonTypeInfo;
import org.nd4j.shade.jackson.databind.annotation.JsonTypeIdResolver;
import org.sa2vp.backbone.Backbone;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.config.JsonTypes;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What the trainer adapts a frozen {@link Backbone} with: SA2VP or one of the baselines the paper compares against.
 * Each is a serialisable configuration that knows how to build its graph, put a pretrained backbone into it, label
 * a batch, read its logits and save what it trained, so one trainer, one evaluation and one command line serve
 * every method. Implementations register with {@link TuningMethods} (this interface names none of them).
 *
 * <p>JSON carries the registered configuration type as {@code "method"}; JSON without it is read as the type a
 * provider declares for untagged JSON (SA2VP: files written before the baselines existed).
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.CUSTOM, property = "method")
@JsonTypeIdResolver(TuningMethod.JsonIds.class)
public interface TuningMethod {

    /** Short name for tables and logs, e.g. {@code sa2vp}, {@code linear-probe}, {@code vpt-deep}. */
    String methodName();

    /** The backbone the method is built on (its own head, if any, is ignored: see {@link #getNumClasses()}). */
    Backbone getBackbone();

    int getNumClasses();

    /** This configuration if every field is valid; otherwise a one-line error naming the field. */
    TuningMethod validated();

    /** The DL4J graph on the given global settings (updater, seed, data type, regularisation). */
    ComputationGraphConfiguration configuration(NeuralNetConfiguration.Builder globals);

    /** Copies a pretrained backbone into the graph (everything but the new head and the method's own parts). */
    void loadBackbone(ComputationGraph graph, BackboneCheckpoint checkpoint);

    /**
     * The label arrays {@code fit} needs for one-hot labels {@code [B, classes]}, one per graph output; by default
     * the graph has one output.
     */
    default INDArray[] labels(INDArray oneHot) {
        return new INDArray[]{oneHot};
    }

    /**
     * The graph vertices holding logits {@code [B, classes]}, each with its weight in the loss
     * ({@link #lossWeights()}); the first one is the prediction.
     */
    List<String> logitVertices();

    /** The loss is {@code Σ_k lossWeights[k] · CE(logitVertices[k])}; by default one logit vertex of weight 1. */
    default double[] lossWeights() {
        return new double[]{1};
    }

    /** Number of values the method trains, head included. */
    long trainableParameters();

    /** Writes what the method trained (not the frozen backbone) with this configuration as metadata. */
    void writeTrained(Path file, ComputationGraph graph);

    /**
     * Loads a file written by {@link #writeTrained} into a graph of this configuration (backbone loaded or not):
     * afterwards the graph computes what the trained one did. A file of another method, class count or backbone
     * architecture is a one-line error naming the file.
     */
    void loadTrained(ComputationGraph graph, Path file);

    String toJson();

    /**
     * Settings this method takes by another name ({@link TuningMethods#withSettings}): each name stands for several
     * of its settings, set together to one value, so that a setting named for one family's method fits another's
     * (SA2VP-Swin's {@code dropout} is its {@code attentionDropout} and {@code adapterDropout}, where SA2VP on the ViT
     * has one {@code dropout}). None by default.
     */
    default Map<String, List<String>> settingAliases() {
        return Map.of();
    }

    /** The registered {@code "method"} ids ({@link TuningMethods#JSON_TYPES}) as Jackson's type id resolver. */
    final class JsonIds extends JsonTypes.Resolver {
        public JsonIds() {
            super(TuningMethods.JSON_TYPES);
        }
    }
}
