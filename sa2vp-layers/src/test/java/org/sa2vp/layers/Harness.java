package org.sa2vp.layers;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.graph.ReshapeVertex;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.Map;

/**
 * Builds a one-block network around an SA2VP layer or vertex ("v", inputs "in0".., an MSE loss on its tokens)
 * and drives the block's runtime directly: forward, and backward of {@code L = Σ out ⊙ G}.
 */
final class Harness {

    final ComputationGraph graph;
    final String[] inputs;

    private Harness(ComputationGraph graph, String[] inputs) {
        this.graph = graph;
        this.inputs = inputs;
    }

    /** @param block a {@link GraphVertex} or a {@link Layer}; tokens[i] and width give the input types */
    static Harness of(Object block, DataType dataType, IUpdater updater, long width, long... tokens) {
        return of(block, dataType, updater, 0.0, width, tokens);
    }

    /** As {@link #of(Object, DataType, IUpdater, long, long...)} with global (decoupled) weight decay. */
    static Harness of(Object block, DataType dataType, IUpdater updater, double weightDecay, long width,
                      long... tokens) {
        String[] inputs = new String[tokens.length];
        InputType[] types = new InputType[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            inputs[i] = "in" + i;
            types[i] = InputType.recurrent(width, tokens[i], RNNFormat.NWC);
        }
        ComputationGraphConfiguration.GraphBuilder b = new NeuralNetConfiguration.Builder()
                .dataType(dataType).seed(7).updater(updater == null ? new NoOp() : updater)
                .weightDecay(weightDecay).graphBuilder().addInputs(inputs);
        if (block instanceof GraphVertex v) {
            b.addVertex("v", v, inputs);
        } else {
            b.addLayer("v", (Layer) block, inputs);
        }
        // A linear head with MSE over the tokens flattened to [B·T, D]. RnnLossLayer's NWC support in M2.1 mixes
        // label layouts, and ComputationGraph.numParams() ignores SameDiff vertex parameters, so a graph whose
        // only parameters sit in vertices would make fit() a silent no-op: the head keeps it a real network.
        b.addVertex("flat", new ReshapeVertex(-1, (int) width), "v");
        b.addLayer("loss", new OutputLayer.Builder(LossFunctions.LossFunction.MSE).activation(Activation.IDENTITY)
                .nIn(width).nOut(width).build(), "flat");
        ComputationGraph graph = new ComputationGraph(b.setOutputs("loss").setInputTypes(types).build());
        graph.init();
        graph.initGradientsView();
        return new Harness(graph, inputs);
    }

    Map<String, INDArray> params() {
        return Parameters.of(graph, "v");
    }

    /** Loads a fixture's parameters (PyTorch names and layouts) through a {@link TorchNames} table. */
    void load(Fixture f, Map<String, String[]> names, DataType dataType) {
        for (String ours : params().keySet()) {
            String[] torch = names.get(ours);
            INDArray value = f.get(torch[0], dataType);
            if (torch[1].equals("T")) {
                value = value.transpose().dup('c');
            }
            if (value.rank() == 1) {
                value = value.reshape(1, value.length());
            }
            Parameters.assign(graph, "v", ours, value);
        }
    }

    /** Output of the block for {@code in}, training mode off. */
    INDArray forward(INDArray... in) {
        org.deeplearning4j.nn.graph.vertex.GraphVertex v = graph.getVertex("v");
        if (v.hasLayer()) {
            v.getLayer().setInput(in[0], LayerWorkspaceMgr.noWorkspaces());
            return v.getLayer().activate(false, LayerWorkspaceMgr.noWorkspaces()).dup();
        }
        v.setInputs(in);
        return v.doForward(false, LayerWorkspaceMgr.noWorkspaces()).dup();
    }

    /** Gradients of {@code Σ out ⊙ g}: the parameter gradients (by name) and the input gradients. */
    Pair<Map<String, INDArray>, INDArray[]> backward(INDArray g, INDArray... in) {
        org.deeplearning4j.nn.graph.vertex.GraphVertex v = graph.getVertex("v");
        if (v.hasLayer()) {
            org.deeplearning4j.nn.api.Layer layer = v.getLayer();
            layer.setInput(in[0], LayerWorkspaceMgr.noWorkspaces());
            layer.activate(true, LayerWorkspaceMgr.noWorkspaces());
            Pair<Gradient, INDArray> r = layer.backpropGradient(g, LayerWorkspaceMgr.noWorkspaces());
            return new Pair<>(copy(r.getFirst()), new INDArray[]{r.getSecond().dup()});
        }
        v.setInputs(in);
        v.doForward(true, LayerWorkspaceMgr.noWorkspaces());
        v.setEpsilon(g);
        Pair<Gradient, INDArray[]> r = v.doBackward(false, LayerWorkspaceMgr.noWorkspaces());
        INDArray[] dIn = new INDArray[r.getSecond().length];
        for (int i = 0; i < dIn.length; i++) {
            dIn[i] = r.getSecond()[i].dup();
        }
        return new Pair<>(copy(r.getFirst()), dIn);
    }

    private static Map<String, INDArray> copy(Gradient g) {
        Map<String, INDArray> out = new java.util.LinkedHashMap<>();
        g.gradientForVariable().forEach((k, val) -> out.put(k, val.dup()));
        return out;
    }

    /** Largest |a − b|. */
    static double maxAbsDiff(INDArray a, INDArray b) {
        return a.castTo(DataType.DOUBLE).sub(b.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
    }

    /** Largest |a − b| / max(|b|max, 1e-8): relative to the reference's scale. */
    static double relDiff(INDArray a, INDArray reference) {
        double scale = Math.max(reference.castTo(DataType.DOUBLE).amaxNumber().doubleValue(), 1e-8);
        return maxAbsDiff(a, reference) / scale;
    }
}
