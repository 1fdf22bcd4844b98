package org.sa2vp.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.method.TuningMethods;
import org.sa2vp.zoo.ZooBackbones;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What any tuning method trained, on its frozen backbone, ready for inference: what {@code eval} and
 * {@code predict} load. The method and its configuration come from the adapter file ({@link
 * TuningMethods#trainedBy}); the backbone must have the architecture it was trained on.
 *
 * @param method the configuration stored in the adapter file
 * @param graph  the inference graph, backbone and trained tensors loaded
 */
record TrainedModel(TuningMethod method, ComputationGraph graph) {

    /** The configuration stored in {@code adapter}, read without loading any tensor. */
    static TuningMethod configuration(Path adapter) {
        if (!Files.isRegularFile(adapter)) {
            throw new IllegalArgumentException("adapter file " + adapter + " not found (sa2vp train writes "
                    + "adapter.safetensors into its --out)");
        }
        return TuningMethods.trainedBy(adapter);
    }

    /**
     * Loads {@code adapter} onto the backbone {@code backbone} (a file or {@code zoo:NAME}).
     *
     * @param method {@link #configuration}{@code (adapter)}
     */
    static TrainedModel load(String backbone, Path adapter, TuningMethod method) {
        BackboneCheckpoint checkpoint = ZooBackbones.read(backbone, CheckpointOptions.of(method.getBackbone()));
        ComputationGraph graph = TuningMethods.inferenceGraph(method, checkpoint, adapter);
        return new TrainedModel(method, graph);
    }
}
