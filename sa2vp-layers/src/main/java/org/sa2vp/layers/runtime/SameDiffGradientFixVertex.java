package org.sa2vp.layers.runtime;

import org.deeplearning4j.nn.conf.layers.samediff.SameDiffVertex;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.samediff.SameDiffGraphVertex;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.factory.Nd4j;
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
 *
 * <p>It also runs SameDiff outside DL4J's workspaces and copies results in: with workspaces, training through
 * a SameDiff vertex in M2.1 produced NaN parameters after a few {@code fit} calls (FreezingTest).
 */
public class SameDiffGradientFixVertex extends SameDiffGraphVertex {

    public SameDiffGradientFixVertex(SameDiffVertex config, ComputationGraph graph, String name, int vertexIndex,
                                     INDArray paramsView, boolean initParams, DataType dataType) {
        super(config, graph, name, vertexIndex, paramsView, initParams, dataType);
    }

    @Override
    public INDArray doForward(boolean training, LayerWorkspaceMgr workspaceMgr) {
        INDArray out;
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            out = super.doForward(training, LayerWorkspaceMgr.noWorkspaces());
        }
        return workspaceMgr.dup(ArrayType.ACTIVATIONS, out);
    }

    @Override
    public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
        INDArray original = epsilon;
        Pair<Gradient, INDArray[]> result;
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            epsilon = original.mul(0.5);
            result = super.doBackward(tbptt, LayerWorkspaceMgr.noWorkspaces());
        } finally {
            epsilon = original;
        }
        INDArray[] dInputs = result.getSecond();
        for (int i = 0; i < dInputs.length; i++) {
            dInputs[i] = workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, dInputs[i]);
        }
        return result;
    }
}
