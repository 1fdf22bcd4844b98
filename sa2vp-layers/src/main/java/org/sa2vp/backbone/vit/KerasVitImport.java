package org.sa2vp.backbone.vit;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sa2vp.backbone.weights.keras.KerasAddPositionEmbs;
import org.sa2vp.backbone.weights.keras.KerasBackboneImport;
import org.sa2vp.backbone.weights.keras.KerasClassToken;
import org.sa2vp.backbone.weights.keras.KerasVisionTransformer;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The ViT's Keras layout (vit-keras: a class-token and a position-embedding layer), imported by
 * {@link KerasVisionTransformer#importModel}. Registered through
 * {@code META-INF/services/org.sa2vp.backbone.weights.keras.KerasBackboneImport}, so that {@link VitFamily} and the
 * other families tell a ViT {@code .h5} from theirs.
 */
public final class KerasVitImport implements KerasBackboneImport {

    private static final Set<String> MARKING_CLASSES = new LinkedHashSet<>(List.of(KerasClassToken.KERAS_CLASS,
            KerasAddPositionEmbs.KERAS_CLASS));

    @Override
    public String family() {
        return VitFamily.NAME;
    }

    @Override
    public String layout() {
        return "a ViT (vit-keras: " + String.join(", ", MARKING_CLASSES) + ")";
    }

    @Override
    public Set<String> markingClasses() {
        return MARKING_CLASSES;
    }

    @Override
    public ComputationGraph importModel(Path h5) {
        return KerasVisionTransformer.importModel(h5);
    }
}
