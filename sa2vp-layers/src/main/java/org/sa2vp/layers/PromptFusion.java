package org.sa2vp.layers;

import lombok.Data;
import lombok.EqualsAndHashCode;
import lombok.NoArgsConstructor;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDVertexParams;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/**
 * SSF-style prompt fusion (SA2VP Eq. 5; the authors' {@code cross_conv}): {@code stream + scale ⊙ prompt} with
 * a trainable per-channel scale {@code [1, D]}, broadcast over batch and tokens, no shift. Inputs
 * {@code stream} and {@code prompt}, both {@code [B, T, D]}. The scale starts at N(0, 0.02²) as in the
 * authors' code, so a new prompt map enters gently.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public class PromptFusion extends Sa2vpVertex {

    public static final String STREAM = "stream";
    public static final String PROMPT = "prompt";
    public static final String SCALE = "scale";

    private int hiddenSize;
    /** Standard deviation of the scale's initial values. */
    private double scaleInitStd = 0.02;

    public PromptFusion(int hiddenSize) {
        this.hiddenSize = hiddenSize;
        validate();
    }

    @Override
    public boolean isBackboneParam(String param) {
        return false;
    }

    @Override
    public void validate() {
        require(hiddenSize > 0, "hiddenSize", "> 0", hiddenSize);
        require(scaleInitStd >= 0, "scaleInitStd", ">= 0", scaleInitStd);
    }

    @Override
    public boolean usesDropout() {
        return false;
    }

    @Override
    public void defineParametersAndInputs(SDVertexParams params) {
        params.defineInputs(STREAM, PROMPT);
        // A weight (rank 2, like the authors' cross_conv), so AdamW decays it as their code does.
        params.addWeightParam(SCALE, 1, hiddenSize);
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        ParameterInit.normal(params.get(SCALE), scaleInitStd);
    }

    @Override
    public SDVariable defineVertex(SameDiff sd, Map<String, SDVariable> inputs, Map<String, SDVariable> params,
                                   Map<String, SDVariable> masks) {
        return inputs.get(STREAM).add(inputs.get(PROMPT).mul(params.get(SCALE).reshape(-1)));
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType... inputs) {
        if (!inputs[0].equals(inputs[1])) {
            throw new IllegalArgumentException(describe() + ": inputs 'stream' and 'prompt' must have the same "
                    + "type, got " + inputs[0] + " and " + inputs[1]);
        }
        InputType.InputTypeRecurrent rnn = (InputType.InputTypeRecurrent) inputs[0];
        checkTokens(STREAM, inputs[0], rnn.getTimeSeriesLength(), hiddenSize);
        return inputs[0];
    }

    @Override
    public void validateInput(INDArray[] input) {
        checkTokens(STREAM, input[0], input[0].size(1), hiddenSize);
        checkTokens(PROMPT, input[1], input[0].size(1), hiddenSize);
    }

    @Override
    public int minVertexInputs() {
        return 2;
    }

    @Override
    public int maxVertexInputs() {
        return 2;
    }

    @Override
    protected org.deeplearning4j.nn.graph.vertex.GraphVertex createFastVertex(ComputationGraph graph, String name,
                                                                              int idx, INDArray view, boolean init,
                                                                              DataType dataType) {
        return new FastRuntime(this, graph, name, idx, view, init, dataType);
    }

    /** {@code out = O + e ⊙ P}; {@code dO = g}, {@code dP = g ⊙ e}, {@code de = Σ_{b,t} g ⊙ P}. */
    static final class FastRuntime extends FastGraphVertex<PromptFusion> {
        private INDArray prompt;

        FastRuntime(PromptFusion conf, ComputationGraph graph, String name, int idx, INDArray view, boolean init,
                    DataType dataType) {
            super(conf, graph, name, idx, view, init, dataType);
        }

        @Override
        protected INDArray forward(INDArray[] in, boolean training) {
            prompt = tokens2d(in[1]);
            INDArray out = prompt.mulRowVector(weights().get(SCALE)).addi(tokens2d(in[0]));
            return tokens3d(out, in[0].size(0));
        }

        @Override
        protected INDArray[] backward(INDArray epsilon) {
            INDArray g = tokens2d(epsilon);
            INDArray dScale = gradients(SCALE);
            if (dScale != null) {
                dScale.addi(g.mul(prompt).sum(0).reshape(dScale.shape()));
            }
            INDArray dPrompt = g.mulRowVector(weights().get(SCALE));
            return new INDArray[]{epsilon.dup(), tokens3d(dPrompt, epsilon.size(0))};
        }
    }
}
