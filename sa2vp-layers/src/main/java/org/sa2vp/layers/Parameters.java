package org.sa2vp.layers;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.Map;

/**
 * Writes values into a network's parameters with shape checking: the way to copy backbone weights into an
 * SA2VP layer. Parameters are views of the network's flat vector, so values are assigned, never replaced.
 */
public final class Parameters {

    private Parameters() {
    }

    /** The parameter table of a vertex or layer of {@code graph}; fails with the known names if absent. */
    public static Map<String, INDArray> of(ComputationGraph graph, String vertex) {
        GraphVertex v = graph.getVertex(vertex);
        if (v == null) {
            throw new IllegalArgumentException("No vertex '" + vertex + "' in the graph; vertices: "
                    + Arrays.toString(Arrays.stream(graph.getVertices()).map(GraphVertex::getVertexName).toArray()));
        }
        return v.hasLayer() ? v.getLayer().paramTable() : v.paramTable(false);
    }

    /**
     * Assigns {@code value} to parameter {@code param} of {@code vertex}. A value with the same number of
     * elements in another layout is not silently reshaped: the shapes must match exactly.
     */
    public static void assign(ComputationGraph graph, String vertex, String param, INDArray value) {
        assign(of(graph, vertex), "Vertex '" + vertex + "'", param, value);
    }

    /** As above on a parameter table; {@code owner} names it in messages. */
    public static void assign(Map<String, INDArray> table, String owner, String param, INDArray value) {
        INDArray target = table.get(param);
        if (target == null) {
            throw new IllegalArgumentException(owner + " has no parameter '" + param + "'; it has " + table.keySet());
        }
        if (!Arrays.equals(target.shape(), value.shape())) {
            throw new IllegalArgumentException(owner + " parameter '" + param + "': expected shape "
                    + Arrays.toString(target.shape()) + ", got " + Arrays.toString(value.shape()));
        }
        target.assign(value);
    }
}
