package org.sa2vp.layers.runtime;

import org.deeplearning4j.nn.conf.layers.samediff.SameDiffVertex;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.samediff.SameDiffGraphVertex;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * DL4J's SameDiff vertex runtime with the 1.0.0-M2.1 doubled-gradient bug corrected.
 *
 * <p>In M2.1 {@code ExternalErrorsFunction.doDiff} registers the incoming gradient and
 * {@code DifferentialFunction.diff()} adds it a second time, so every SameDiff vertex returns exactly 2× the
 * true gradient for its parameters and inputs (stacked vertices compound to 2^k). Halving the incoming
 * epsilon makes every output gradient exact; {@code SameDiffGradientFixTest} fails if this is removed.
 */
public class SameDiffGradientFixVertex extends SameDiffGraphVertex {

    public SameDiffGradientFixVertex(SameDiffVertex config, ComputationGraph graph, String name, int vertexIndex,
                                     INDArray paramsView, boolean initParams, DataType dataType) {
        super(config, graph, name, vertexIndex, paramsView, initParams, dataType);
    }

    @Override
    public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
        INDArray original = epsilon;
        epsilon = original.mul(0.5);
        try {
            return super.doBackward(tbptt, workspaceMgr);
        } finally {
            epsilon = original;
        }
    }
}
