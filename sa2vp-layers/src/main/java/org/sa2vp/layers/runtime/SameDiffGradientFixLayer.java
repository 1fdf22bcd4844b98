package org.sa2vp.layers.runtime;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.samediff.SameDiffLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * DL4J's SameDiff layer runtime with the 1.0.0-M2.1 doubled-gradient bug corrected (see
 * {@link SameDiffGradientFixVertex}): the incoming epsilon is halved so parameter and input gradients are exact,
 * and SameDiff runs outside DL4J's workspaces.
 */
public class SameDiffGradientFixLayer extends SameDiffLayer {

    public SameDiffGradientFixLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        INDArray out;
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            out = super.activate(training, LayerWorkspaceMgr.noWorkspaces());
        }
        return workspaceMgr.dup(ArrayType.ACTIVATIONS, out);
    }

    /**
     * Copies {@code value} into the parameter. DL4J 1.0.0-M2.1's SameDiff layer runtime checks the shape and then
     * drops the value, so {@code ComputationGraph.setParam} and the Keras import's weight copy were silent no-ops.
     */
    @Override
    public void setParam(String key, INDArray value) {
        super.setParam(key, value);
        paramTable.get(key).assign(value);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        Pair<Gradient, INDArray> result;
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            result = super.backpropGradient(epsilon.mul(0.5), LayerWorkspaceMgr.noWorkspaces());
        }
        return new Pair<>(result.getFirst(), workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, result.getSecond()));
    }
}
