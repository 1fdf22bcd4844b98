package org.sa2vp;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the tests check of whole DL4J graphs: a method's gradients, the ModelSerializer round trip. */
public final class TestGraphs {

    private TestGraphs() {
    }

    /**
     * A float64 graph's gradients against central differences (ε 1e-6, relative error 1e-6, absolute 1e-10) for the
     * {@code trainable} parameters; then each of them has a non-zero gradient and every other (frozen) parameter that
     * {@code exactlyFrozen} accepts exactly none.
     */
    public static void assertExactGradients(ComputationGraph g, INDArray images, INDArray[] labels,
                                            Set<String> trainable, Predicate<String> exactlyFrozen) {
        Set<String> frozen = new HashSet<>(g.paramTable().keySet());
        frozen.removeAll(trainable);
        assertTrue(GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig().net(g)
                .inputs(new INDArray[]{images}).labels(labels).epsilon(1e-6).maxRelError(1e-6)
                .minAbsoluteError(1e-10).excludeParams(frozen)));
        g.setInputs(images);
        g.setLabels(labels);
        g.computeGradientAndScore();
        Map<String, INDArray> grads = g.gradient().gradientForVariable();
        for (String p : frozen) {
            if (exactlyFrozen.test(p)) {
                assertEquals(0.0, grads.get(p).amaxNumber().doubleValue(), 0.0, "frozen " + p + " got a gradient");
            }
        }
        for (String p : trainable) {
            assertTrue(grads.get(p).amaxNumber().doubleValue() > 1e-8, p + " got no gradient");
        }
    }

    /**
     * {@code graph} written by ModelSerializer into {@code dir} (without updater) and restored: its configuration
     * survives JSON, the restored graph has the same parameters and the same output on {@code input}.
     */
    public static void assertModelSerializerRoundTrip(ComputationGraph graph, Path dir, String fileName,
                                                      INDArray input) throws IOException {
        File file = dir.resolve(fileName).toFile();
        ModelSerializer.writeModel(graph, file, false);
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(file, false);
        ComputationGraphConfiguration configuration = graph.getConfiguration();
        assertEquals(configuration, ComputationGraphConfiguration.fromJson(configuration.toJson()));
        assertEquals(graph.params(), restored.params());
        assertEquals(graph.outputSingle(input), restored.outputSingle(input));
    }
}
