package org.sa2vp.backbone.weights.keras;

import org.deeplearning4j.nn.graph.ComputationGraph;

import java.nio.file.Path;
import java.util.Set;

/**
 * The Keras {@code .h5} layout of one backbone family and its import into a DL4J graph, as
 * {@link KerasBackboneImports} registers it: found by {@link java.util.ServiceLoader} when listed in
 * {@code META-INF/services/org.sa2vp.backbone.weights.keras.KerasBackboneImport}. Through it a family reads Keras
 * files whose import lives in a package above the family's own (the Swin's, in {@code backbone.swin.keras}), and
 * every family tells its Keras files from the others' by their layer classes alone.
 */
public interface KerasBackboneImport {

    /** The backbone family whose models this layout holds, its name as registered in {@code Backbones}. */
    String family();

    /**
     * The layout in one-line messages: the architecture and the Keras layer classes that mark it, e.g.
     * {@code a ViT (vit-keras: ClassToken, AddPositionEmbs)}.
     */
    String layout();

    /** The Keras layer classes of which a model of this layout has at least one and no other layout has any. */
    Set<String> markingClasses();

    /**
     * The model with its weights as a DL4J graph of the family's layers (input NHWC {@code [B, H, W, C]}, as in
     * Keras), which the family's {@code fromGraph} reads.
     *
     * @throws org.sa2vp.backbone.weights.CheckpointException one line naming the file and, where it applies, the layer
     */
    ComputationGraph importModel(Path h5);
}
