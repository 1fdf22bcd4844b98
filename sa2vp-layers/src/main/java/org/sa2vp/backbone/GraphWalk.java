package org.sa2vp.backbone;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Walks a DL4J {@link ComputationGraph} along its data flow, as the families' graph readers ({@code VitGraphReader},
 * {@code SwinGraphReader}) do to recognise a backbone whatever its vertex names: from the one input, to the one
 * vertex reading each output, passing over the vertices a family declares pass-through (dropout, which is identity
 * at inference). The first vertex that does not fit fails in one line naming it, its layer type and what was
 * expected there; the messages of both families come from here.
 */
public final class GraphWalk {

    private final ComputationGraphConfiguration conf;
    private final Predicate<GraphVertex> passThrough;
    /** For each vertex or input, the vertices reading it, in the configuration's order. */
    private final Map<String, List<String>> consumers = new LinkedHashMap<>();

    /**
     * A walk over {@code graph}'s configuration.
     *
     * @param passThrough the vertices to look through, e.g. {@link #isDropout}
     */
    public GraphWalk(ComputationGraph graph, Predicate<GraphVertex> passThrough) {
        this.conf = graph.getConfiguration();
        this.passThrough = passThrough;
        conf.getVertexInputs().forEach((vertex, inputs) -> inputs.forEach(input ->
                consumers.computeIfAbsent(input, k -> new ArrayList<>()).add(vertex)));
    }

    /** Whether {@code vertex} is a dropout layer (identity at inference). */
    public static boolean isDropout(GraphVertex vertex) {
        return vertex instanceof LayerVertex l && l.getLayerConf().getLayer() instanceof DropoutLayer;
    }

    /** The walked graph's configuration. */
    public ComputationGraphConfiguration conf() {
        return conf;
    }

    /**
     * The vertex reading the graph's one input, where {@code model} (e.g. "a ViT") has its patch embedding.
     *
     * @throws IllegalArgumentException when the graph has more or fewer inputs than one, or not one reader of it
     */
    public String firstVertex(String model) {
        List<String> inputs = conf.getNetworkInputs();
        if (inputs.size() != 1) {
            throw fail("the graph has " + inputs.size() + " inputs " + inputs + ", where " + model
                    + " has one image input");
        }
        return next(inputs.get(0), "the patch embedding");
    }

    /**
     * The one vertex reading {@code vertex}'s output, past pass-through vertices.
     *
     * @param expected what should follow, as messages name it (e.g. "the patch embedding")
     * @throws IllegalArgumentException when {@code vertex} is an output of the graph or feeds several vertices
     */
    public String next(String vertex, String expected) {
        return next(vertex, expected, readers -> readers);
    }

    /**
     * As {@link #next(String, String)}, where the one vertex is chosen among the readers by {@code choose} (a
     * residual branch feeds its block and the skip connection).
     */
    public String next(String vertex, String expected, Function<List<String>, List<String>> choose) {
        List<String> readers = consumersOf(vertex);
        List<String> chosen = choose.apply(readers);
        if (chosen.size() != 1) {
            throw fail(readers.isEmpty() ? "vertex '" + vertex + "' is an output of the graph, where " + expected
                    + " was expected to follow it" : "vertex '" + vertex + "' feeds " + readers + ", where "
                    + expected + " was expected");
        }
        return chosen.get(0);
    }

    /** The vertices reading {@code vertex}, with pass-through vertices replaced by what they feed. */
    public List<String> consumersOf(String vertex) {
        List<String> out = new ArrayList<>();
        for (String reader : consumers.getOrDefault(vertex, List.of())) {
            if (passThrough.test(conf.getVertices().get(reader))) {
                out.addAll(consumersOf(reader));
            } else {
                out.add(reader);
            }
        }
        return out;
    }

    /** The vertex whose value {@code vertex} carries: itself, or for a pass-through vertex its input's. */
    public String source(String vertex) {
        return passThrough.test(conf.getVertices().get(vertex)) ? source(conf.getVertexInputs().get(vertex).get(0))
                : vertex;
    }

    /** The layer configuration of {@code vertex}; null for an input or a vertex that is no layer. */
    public Layer layer(String vertex) {
        return conf.getVertices().get(vertex) instanceof LayerVertex l ? l.getLayerConf().getLayer() : null;
    }

    /**
     * The one-line error for {@code vertex} standing where {@code expected} should: "vertex 'v' is a TYPE where
     * EXPECTED was expected", TYPE being the layer's class, the vertex's class, or "input".
     */
    public IllegalArgumentException unexpected(String vertex, String expected) {
        GraphVertex v = conf.getVertices().get(vertex);
        Layer layer = layer(vertex);
        String type = layer != null ? layer.getClass().getSimpleName() : v == null ? "input"
                : v.getClass().getSimpleName();
        return fail("vertex '" + vertex + "' is a " + type + " where " + expected + " was expected");
    }

    /** The graph readers' exception for a graph that is not the family's, with {@code message} as its one line. */
    public static IllegalArgumentException fail(String message) {
        return new IllegalArgumentException(message);
    }
}
