package org.sa2vp.backbone;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sa2vp.backbone.weights.OnnxModel;

import java.nio.file.Path;
import java.util.List;

/**
 * A backbone family as {@link Backbones} registers it: found by {@link java.util.ServiceLoader} when listed in
 * {@code META-INF/services/org.sa2vp.backbone.BackboneFamily}, or given to {@link Backbones#register}.
 */
public interface BackboneFamily {

    /** The family's name and JSON {@code "family"} id, e.g. {@code vit}. */
    String name();

    /** The configuration class, implementing {@link Backbone}. */
    Class<? extends Backbone> configurationType();

    /** True for the one family that JSON without a {@code "family"} id belongs to (files of the first format). */
    default boolean readsUntaggedJson() {
        return false;
    }

    /** Names of the ready-made variants, e.g. {@code vit_base_patch16_224}. */
    List<String> variants();

    /** The named variant (one of {@link #variants()}), without a head. */
    Backbone variant(String name);

    /** Whether {@code file} holds weights of this family (looked at without reading the tensors where possible). */
    boolean recognises(Path file);

    /** Reads a checkpoint of this family, inferring what the file does not store from {@code options}. */
    BackboneCheckpoint read(Path file, CheckpointOptions options);

    /**
     * The backbone of this family in a DL4J graph the user already holds (built by this library or imported), its
     * weights under the family's canonical names and the architecture read from the layer configurations, so that
     * a method can be attached to it ({@code TuningMethods.attach}). A family that does not read graphs keeps this
     * default, which refuses.
     *
     * @throws IllegalArgumentException one line naming the first vertex (or layer) that is not where this family
     *                                  has it, and what was expected there
     */
    default BackboneCheckpoint fromGraph(ComputationGraph graph, CheckpointOptions options) {
        throw new IllegalArgumentException("backbone family '" + name() + "' does not read DL4J graphs");
    }

    /**
     * The backbone of this family in a parsed ONNX model (DL4J cannot import ONNX ViTs into a graph, so an ONNX
     * backbone is attached through its weights, its structure checked on the ONNX graph). A family that does not
     * read ONNX models keeps this default, which refuses.
     *
     * @throws IllegalArgumentException one line naming the first node that is not where this family has it
     */
    default BackboneCheckpoint fromOnnx(OnnxModel model, CheckpointOptions options) {
        throw new IllegalArgumentException("backbone family '" + name() + "' does not read ONNX models");
    }
}
