package org.sa2vp.method;

import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.sa2vp.layers.FrozenUpdater;
import org.sa2vp.layers.Parameters;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The values a tuning method trains, held in memory apart from their graph, so one graph with its frozen backbone
 * can serve many tasks: {@link #capture} copies the trainable parameters out (what {@link TuningMethod#loadTrained}
 * put there), {@link #apply} puts another task's back, with no file read per switch. A parameter is trainable when
 * its updater is not our {@link FrozenUpdater}, the one every method gives its frozen parameters; what is captured is
 * then exactly {@link TuningMethod#trainableParameters()} values (checked).
 */
public final class TrainedValues {

    private final Map<String, INDArray> values;

    private TrainedValues(Map<String, INDArray> values) {
        this.values = values;
    }

    /**
     * Copies of the trainable parameters of {@code graph}, built for {@code method}, keyed {@code vertex/param}.
     *
     * @throws IllegalStateException when their count is not the method's {@link TuningMethod#trainableParameters()}
     */
    public static TrainedValues capture(ComputationGraph graph, TuningMethod method) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (org.deeplearning4j.nn.graph.vertex.GraphVertex vertex : graph.getVertices()) {
            Map<String, INDArray> table = Parameters.of(graph, vertex.getVertexName());
            if (table == null) {
                continue;
            }
            GraphVertex conf = graph.getConfiguration().getVertices().get(vertex.getVertexName());
            for (Map.Entry<String, INDArray> p : table.entrySet()) {
                if (!(updater(conf, p.getKey()) instanceof FrozenUpdater)) {
                    out.put(vertex.getVertexName() + "/" + p.getKey(), p.getValue().dup());
                }
            }
        }
        TrainedValues captured = new TrainedValues(out);
        if (captured.count() != method.trainableParameters()) {
            throw new IllegalStateException("captured " + captured.count() + " trainable values, but "
                    + method.methodName() + " trains " + method.trainableParameters());
        }
        return captured;
    }

    /** Writes these values into {@code graph}, which must be built like the one they were captured from. */
    public void apply(ComputationGraph graph) {
        for (Map.Entry<String, INDArray> e : values.entrySet()) {
            int slash = e.getKey().lastIndexOf('/');
            String vertex = e.getKey().substring(0, slash);
            Map<String, INDArray> table = graph.getVertex(vertex) == null ? null : Parameters.of(graph, vertex);
            INDArray target = table == null ? null : table.get(e.getKey().substring(slash + 1));
            if (target == null || !Arrays.equals(target.shape(), e.getValue().shape())) {
                throw new IllegalArgumentException("the graph has no parameter " + e.getKey() + " of shape "
                        + Arrays.toString(e.getValue().shape()) + "; apply values to a graph of the same method "
                        + "configuration");
            }
            target.assign(e.getValue());
        }
    }

    /** Number of values held. */
    public long count() {
        return values.values().stream().mapToLong(INDArray::length).sum();
    }

    /** Bytes of array data held (what one more task costs in memory). */
    public long bytes() {
        return values.values().stream().mapToLong(a -> a.length() * a.dataType().width()).sum();
    }

    private static IUpdater updater(GraphVertex conf, String param) {
        if (conf instanceof LayerVertex layer) {
            return layer.getLayerConf().getLayer().getUpdaterByParam(param);
        }
        if (conf instanceof SameDiffVertex sameDiff) {
            return sameDiff.getUpdaterByParam(param);
        }
        return null;
    }
}
