package org.sa2vp.layers;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.learning.config.Adam;

import java.io.File;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

/**
 * Configuration JSON round trips keep every field; a {@link ModelSerializer} save/load round trip (with
 * updater state) gives identical outputs and identical parameters after one more {@code fit} on both copies.
 */
class SerializationTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Implementation.class)
    void roundTrips(Implementation impl) throws Exception {
        for (TinyLayers.Case c : TinyLayers.all(impl, true, 0.0)) {
            ComputationGraph graph = Harness.of(c.block(), DataType.FLOAT, new Adam(1e-2), 1e-3, TinyLayers.D,
                    c.tokens()).graph;
            TinyLayers.randomise(Parameters.of(graph, "v"));

            // configuration: JSON and back, every field (lombok equals covers all of them)
            ComputationGraphConfiguration conf = graph.getConfiguration();
            ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(conf.toJson());
            assertEquals(conf, back, c + ": configuration JSON round trip");
            Object block = c.block() instanceof GraphVertex ? back.getVertices().get("v")
                    : ((org.deeplearning4j.nn.conf.graph.LayerVertex) back.getVertices().get("v")).getLayerConf()
                    .getLayer();
            assertEquals(c.block().getClass(), block.getClass());
            if (c.block() instanceof GraphVertex v) {
                GraphVertex copy = v.clone();
                assertNotSame(v, copy);
                assertEquals(v, copy, c + ": clone");
            } else {
                assertEquals(((Layer) c.block()).getClass(), block.getClass());
            }

            MultiDataSet data = new MultiDataSet(TinyLayers.inputs(c, DataType.FLOAT, 3, 9),
                    new INDArray[]{TinyLayers.labels(c, DataType.FLOAT, 3)});
            graph.fit(data);
            File file = dir.resolve(c.name() + ".zip").toFile();
            ModelSerializer.writeModel(graph, file, true);
            ComputationGraph restored = ModelSerializer.restoreComputationGraph(file, true);

            INDArray[] in = data.getFeatures();
            assertEquals(graph.outputSingle(false, in), restored.outputSingle(false, in), c + ": outputs");
            assertEquals(graph.params(), restored.params(), c + ": parameters");
            assertEquals(graph.getUpdater().getStateViewArray(), restored.getUpdater().getStateViewArray(),
                    c + ": updater state");
            graph.fit(data);
            restored.fit(data);
            assertEquals(graph.params(), restored.params(), c + ": parameters after one more fit");
        }
    }
}
