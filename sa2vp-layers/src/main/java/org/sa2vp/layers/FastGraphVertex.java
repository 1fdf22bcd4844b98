package org.sa2vp.layers;

import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.samediff.SameDiffGraphVertex;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.layers.runtime.KernelWorkspaces;

import java.util.Map;

/**
 * Runtime of an SA2VP vertex computed by hand-written kernels instead of its SameDiff definition.
 *
 * <p>It reuses {@link SameDiffGraphVertex}'s parameter and gradient views (so parameters, updaters,
 * serialisation and the SameDiff reference all address the same flat vectors) and replaces the compute:
 * the forward pass keeps exactly the tensors the backward pass needs, the backward pass fills only the
 * gradients of trainable parameters (frozen gradients stay zero, and their GEMMs are never run). Work
 * happens outside DL4J workspaces; results are copied into the activation / activation-gradient
 * workspaces DL4J hands in.
 */
public abstract class FastGraphVertex<C extends Sa2vpVertex> extends SameDiffGraphVertex {

    protected final C conf;
    private final KernelWorkspaces.LayerCache layerCache = new KernelWorkspaces.LayerCache(this);
    private INDArray[] cachedInputs;
    private boolean cachedTraining;

    protected FastGraphVertex(C conf, ComputationGraph graph, String name, int vertexIndex, INDArray paramsView,
                              boolean initParams, DataType dataType) {
        super(conf, graph, name, vertexIndex, paramsView, initParams, dataType);
        this.conf = conf;
    }

    /** Computes the output for {@code inputs} and keeps what {@link #backward} needs. Detached arrays. */
    protected abstract INDArray forward(INDArray[] inputs, boolean training);

    /**
     * Gradients of the inputs for the last {@link #forward}. Adds trainable parameter gradients into
     * {@link #gradients(String)} (zeroed before the call).
     */
    protected abstract INDArray[] backward(INDArray epsilon);

    /** The gradient view of a parameter, or null when that parameter is frozen (no gradient computed). */
    protected INDArray gradients(String param) {
        return conf.isFrozenParam(param) ? null : gradTable.get(param);
    }

    /**
     * Gradient views of the parameters that are trained; frozen ones are absent (no gradient computed). Null
     * before the graph has gradient views (a training-mode forward pass without backprop).
     */
    protected Map<String, INDArray> trainableGradients() {
        if (gradTable == null) {
            return null;
        }
        Map<String, INDArray> grads = new java.util.HashMap<>();
        for (Map.Entry<String, INDArray> e : gradTable.entrySet()) {
            if (!conf.isFrozenParam(e.getKey())) {
                grads.put(e.getKey(), e.getValue());
            }
        }
        return grads;
    }

    protected Map<String, INDArray> weights() {
        return paramTable;
    }

    @Override
    public INDArray doForward(boolean training, LayerWorkspaceMgr workspaceMgr) {
        conf.validateInput(inputs);
        // Intermediate tensors live in kernel workspaces (see KernelWorkspaces); the output is copied to DL4J's.
        if (training) {
            INDArray result = layerCache.forward(ws -> workspaceMgr.dup(ArrayType.ACTIVATIONS, forward(inputs, true)));
            cachedInputs = inputs.clone();
            cachedTraining = true;
            return result;
        }
        try (MemoryWorkspace ws = KernelWorkspaces.inference()) {
            cachedInputs = null;
            cachedTraining = false;
            return workspaceMgr.dup(ArrayType.ACTIVATIONS, forward(inputs, false));
        }
    }

    @Override
    public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
        if (!sameInputs() || !cachedTraining) {
            layerCache.forward(ws -> forward(inputs, true));
            cachedInputs = inputs.clone();
            cachedTraining = true;
        }
        for (Map.Entry<String, INDArray> e : gradTable.entrySet()) {
            if (!conf.isFrozenParam(e.getKey())) {
                e.getValue().assign(0);
            }
        }
        INDArray[] dInputs;
        try (MemoryWorkspace scratch = KernelWorkspaces.backward()) {
            dInputs = backward(epsilon);
            for (int i = 0; i < dInputs.length; i++) {
                dInputs[i] = workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, dInputs[i]);
            }
        }
        Gradient gradient = new DefaultGradient();
        for (String param : paramTable.keySet()) {
            gradient.gradientForVariable().put(param, gradTable.get(param));
        }
        return new Pair<>(gradient, dInputs);
    }

    private boolean sameInputs() {
        if (cachedInputs == null || cachedInputs.length != inputs.length) {
            return false;
        }
        for (int i = 0; i < inputs.length; i++) {
            if (cachedInputs[i] != inputs[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void clearVertex() {
        super.clearVertex();
        cachedInputs = null;
    }

    /** {@code [B, T, D]} → {@code [B·T, D]} (contiguous copy only when needed). */
    protected static INDArray tokens2d(INDArray x) {
        return x.reshape('c', x.size(0) * x.size(1), x.size(2));
    }

    /** {@code [B·T, D]} → {@code [B, T, D]}. */
    protected static INDArray tokens3d(INDArray x, long batch) {
        return x.reshape('c', batch, x.size(0) / batch, x.size(1));
    }
}
