package org.sa2vp.model;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.baseline.HeadTuningConfig;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.method.TuningMethods;

import java.util.List;
import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What attaching a method to a backbone the user holds must give: exactly the graph that the checkpoint route
 * ({@code Backbones.read} + {@code TuningMethod.loadBackbone}) gives on the same weights.
 */
public final class AttachAssertions {

    /** Classes of the new task the methods are attached for. */
    public static final int CLASSES = 5;

    private AttachAssertions() {
    }

    /** The names of the registered methods that build on {@code family}. */
    public static List<String> methodsOn(String family) {
        return TuningMethods.names().stream().filter(name -> TuningMethods.variants().stream()
                .anyMatch(v -> v.name().equals(name) && v.buildsOn(family))).toList();
    }

    /**
     * For every registered method on the checkpoint's family: {@code attach(name, CLASSES)} has bit-identical
     * parameters to {@code create} + {@code loadBackbone(loaded)}, and equal logits on {@code images}.
     */
    public static void assertEveryMethodAttachesAsLoaded(BackboneCheckpoint loaded, INDArray images,
                                                         BiFunction<String, Integer, ComputationGraph> attach) {
        List<String> names = methodsOn(loaded.config().family());
        assertTrue(names.containsAll(List.of(Sa2vpMethods.SA2VP, HeadTuningConfig.LINEAR_PROBE,
                HeadTuningConfig.FULL_FINETUNE, "vpt-shallow", "vpt-deep")), "registered on ViTs: " + names);
        for (String name : names) {
            assertMethodAttachesAsLoaded(name, loaded, images, attach);
        }
    }

    /**
     * Method {@code name}: {@code attach(name, CLASSES)} has bit-identical parameters to {@code create} +
     * {@code loadBackbone(loaded)}, and equal logits on {@code images}.
     */
    public static void assertMethodAttachesAsLoaded(String name, BackboneCheckpoint loaded, INDArray images,
                                                    BiFunction<String, Integer, ComputationGraph> attach) {
        TuningMethod method = TuningMethods.create(name, loaded.config(), CLASSES);
        ComputationGraph reference = new ComputationGraph(method.configuration(Sa2vpModel.defaultGlobals()));
        reference.init();
        method.loadBackbone(reference, loaded);
        assertAttachedEquals(name, method, reference, attach.apply(name, CLASSES), images);
    }

    /** The SA2VP facade against {@code Sa2vpModel.create} + {@code loadBackbone} on the loaded checkpoint. */
    public static void assertSa2vpAttachesAsLoaded(BackboneCheckpoint loaded, ComputationGraph attached,
                                                   INDArray images) {
        Sa2vpConfig config = Sa2vpConfig.of(org.sa2vp.backbone.vit.VitCheckpoint.of(loaded).config(), CLASSES);
        ComputationGraph reference = Sa2vpModel.create(config);
        config.loadBackbone(reference, loaded);
        assertAttachedEquals("Sa2vp.attach", config, reference, attached, images);
    }

    private static void assertAttachedEquals(String label, TuningMethod method, ComputationGraph reference,
                                             ComputationGraph attached, INDArray images) {
        assertEquals(reference.paramTable().keySet(), attached.paramTable().keySet(), label + ": parameter names");
        reference.paramTable().forEach((name, value) -> assertArrayEquals(floats(value),
                floats(attached.paramTable().get(name)), label + ": parameter " + name));
        for (String logits : method.logitVertices()) {
            INDArray want = reference.feedForward(new INDArray[]{images}, false).get(logits);
            INDArray got = attached.feedForward(new INDArray[]{images}, false).get(logits);
            assertArrayEquals(floats(want), floats(got), label + ": logits " + logits);
        }
    }

    /** The values of {@code a} in C order, for bitwise comparisons ({@code INDArray.equals} allows 1e-5). */
    public static float[] floats(INDArray a) {
        return a.dup('c').reshape(a.length()).toFloatVector();
    }
}
