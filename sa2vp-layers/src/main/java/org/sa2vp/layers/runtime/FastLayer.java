package org.sa2vp.layers.runtime;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.samediff.SameDiffLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Runtime of a single-input SA2VP layer computed by hand-written kernels; the layer counterpart of
 * {@code FastGraphVertex} (same parameter/gradient views as DL4J's SameDiff layer runtime).
 */
public abstract class FastLayer extends SameDiffLayer {

    private final KernelWorkspaces.LayerCache layerCache = new KernelWorkspaces.LayerCache(this);
    private INDArray cachedInput;
    private boolean cachedTraining;

    protected FastLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    /** Output for {@code input} ({@code [B, T, D]}); keeps what {@link #backward} needs. Detached arrays. */
    protected abstract INDArray forward(INDArray input, boolean training);

    /**
     * As {@link #forward(INDArray, boolean)}, handing the output to {@code keepOutput} (which copies it where the
     * network keeps activations) and returning what that returns. A runtime whose kernel computes in
     * {@link KernelWorkspaces#scratch()} overrides it to pass {@code keepOutput} to the kernel, so the output goes
     * straight from scratch to the network's workspace instead of through this layer's cache as well.
     */
    protected INDArray forward(INDArray input, boolean training, UnaryOperator<INDArray> keepOutput) {
        return keepOutput.apply(forward(input, training));
    }

    /** Input gradient for the last forward; adds parameter gradients into {@link #gradientViews()}. */
    protected abstract INDArray backward(INDArray epsilon);

    /** Gradient views by parameter name (zeroed before {@link #backward}). */
    protected Map<String, INDArray> gradientViews() {
        return gradTable;
    }

    protected Map<String, INDArray> weights() {
        return paramTable;
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(false);
        // Intermediate tensors live in kernel workspaces (see KernelWorkspaces): in training this layer's cache,
        // kept until backward; in inference a shared one reset at every call. The output is copied to DL4J's.
        if (training) {
            INDArray result = layerCache.forward(ws -> forward(input, true,
                    out -> workspaceMgr.dup(ArrayType.ACTIVATIONS, out)));
            cachedInput = input;
            cachedTraining = true;
            return result;
        }
        try (MemoryWorkspace ws = KernelWorkspaces.inference()) {
            cachedInput = null;
            cachedTraining = false;
            return workspaceMgr.dup(ArrayType.ACTIVATIONS, forward(input, false));
        }
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        if (cachedInput != input || !cachedTraining) {
            layerCache.forward(ws -> forward(input, true));
            cachedInput = input;
            cachedTraining = true;
        }
        for (INDArray g : gradTable.values()) {
            g.assign(0);
        }
        INDArray dInput;
        try (MemoryWorkspace scratch = KernelWorkspaces.backward()) {
            dInput = workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, backward(epsilon));
        }
        Gradient gradient = new DefaultGradient();
        for (String param : paramTable.keySet()) {
            gradient.gradientForVariable().put(param, gradTable.get(param));
        }
        return new Pair<>(gradient, dInput);
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
    public void clear() {
        super.clear();
        cachedInput = null;
    }
}
