package org.sa2vp.layers;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.learning.config.Adam;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Frozen backbone weights stay bitwise identical through {@code fit} with Adam and weight decay (and dropout
 * on, for FAST), while every trainable parameter moves.
 */
class FreezingTest {

    @ParameterizedTest
    @EnumSource(Implementation.class)
    void frozenWeightsNeverMoveTrainableOnesDo(Implementation impl) {
        double dropout = impl == Implementation.FAST ? 0.1 : 0.0;
        for (TinyLayers.Case c : TinyLayers.all(impl, true, dropout)) {
            ComputationGraph graph = Harness.of(c.block(), DataType.FLOAT, new Adam(1e-2), 0.01, TinyLayers.D,
                    c.tokens()).graph;
            TinyLayers.randomise(Parameters.of(graph, "v"));
            Map<String, INDArray> before = new HashMap<>();
            Parameters.of(graph, "v").forEach((k, v) -> before.put(k, v.dup()));

            MultiDataSet data = new MultiDataSet(TinyLayers.inputs(c, DataType.FLOAT, 4, 5),
                    new INDArray[]{TinyLayers.labels(c, DataType.FLOAT, 4)});
            for (int i = 0; i < 3; i++) {
                graph.fit(data);
            }
            for (Map.Entry<String, INDArray> e : Parameters.of(graph, "v").entrySet()) {
                INDArray old = before.get(e.getKey());
                boolean frozen = c.block() instanceof Sa2vpVertex v && v.isFrozenParam(e.getKey());
                if (frozen) {
                    assertArrayEquals(old.data().asFloat(), e.getValue().dup().data().asFloat(),
                            c + " frozen " + e.getKey() + " changed");
                } else {
                    double moved = e.getValue().sub(old).amaxNumber().doubleValue();
                    assertTrue(moved > 1e-5, c + " trainable " + e.getKey() + " did not move (" + moved + ")");
                }
            }
        }
    }
}
