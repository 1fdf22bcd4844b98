package org.sa2vp.backbone.swin.keras;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sa2vp.backbone.swin.SwinFamily;
import org.sa2vp.backbone.weights.keras.KerasBackboneImport;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The Swin's Keras layout (SwinTransformer-Tensorflow2's layers), imported by {@link KerasSwinTransformer#importModel}.
 * Registered through {@code META-INF/services/org.sa2vp.backbone.weights.keras.KerasBackboneImport}: this is how
 * {@code SwinCheckpoint.read} and {@link SwinFamily#recognises} reach a Keras {@code .h5} Swin, whose import lives
 * above their package.
 */
public final class KerasSwinImport implements KerasBackboneImport {

    private static final Set<String> MARKING_CLASSES = new LinkedHashSet<>(List.of(KerasPatchEmbed.KERAS_CLASS,
            KerasSwinTransformerBlock.KERAS_CLASS, KerasPatchMerging.KERAS_CLASS));

    @Override
    public String family() {
        return SwinFamily.NAME;
    }

    @Override
    public String layout() {
        return "a Swin Transformer (SwinTransformer-Tensorflow2: " + String.join(", ", MARKING_CLASSES) + ")";
    }

    @Override
    public Set<String> markingClasses() {
        return MARKING_CLASSES;
    }

    @Override
    public ComputationGraph importModel(Path h5) {
        return KerasSwinTransformer.importModel(h5);
    }
}
