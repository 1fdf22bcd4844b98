package org.sa2vp.layers;

import lombok.Data;
import lombok.EqualsAndHashCode;
import lombok.NoArgsConstructor;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.sa2vp.config.ConfigSupport;
import org.sa2vp.layers.runtime.SameDiffGradientFixVertex;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.List;

/**
 * Common configuration of the SA2VP graph vertices: choice of runtime ({@link Implementation}), freezing of
 * backbone weights, the M2.1 gradient fix for the SameDiff runtime, JSON-based {@link #clone()}.
 *
 * <p>Frozen parameters get a {@link FrozenUpdater} (zero update) and no regularisation, so {@code fit} leaves them
 * bitwise unchanged under any global updater (Adam, AdamW, weight decay); the {@link Implementation#FAST}
 * runtime additionally never computes their gradient.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public abstract class Sa2vpVertex extends SameDiffVertex {

    /** Runtime used by {@link #instantiate}. */
    protected Implementation implementation = Implementation.FAST;
    /** When true (default) the backbone weights held by this vertex are frozen. */
    protected boolean freezeBackboneWeights = true;

    /** True for parameters that come from the frozen backbone (as opposed to SA2VP's own). */
    public abstract boolean isBackboneParam(String param);

    /** Throws {@link IllegalArgumentException} naming the offending field and the expected value. */
    public abstract void validate();

    /** Whether any dropout probability of this configuration is non-zero. */
    public abstract boolean usesDropout();

    /** Creates the {@link Implementation#FAST} runtime. */
    protected abstract org.deeplearning4j.nn.graph.vertex.GraphVertex createFastVertex(
            ComputationGraph graph, String name, int idx, INDArray paramsView, boolean initializeParams,
            DataType dataType);

    public boolean isFrozenParam(String param) {
        return freezeBackboneWeights && isBackboneParam(param);
    }

    @Override
    public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(ComputationGraph graph, String name, int idx,
                                                                      INDArray paramsView, boolean initializeParams,
                                                                      DataType dataType) {
        setName(name);
        validate();
        if (implementation == Implementation.SAMEDIFF) {
            if (usesDropout()) {
                throw new IllegalStateException(getClass().getSimpleName() + " '" + name + "': implementation "
                        + "SAMEDIFF cannot apply dropout (DL4J M2.1 does not pass the training flag to SameDiff "
                        + "vertices); set every dropout to 0 or use Implementation.FAST");
            }
            return new SameDiffGradientFixVertex(this, graph, name, idx, paramsView, initializeParams, dataType);
        }
        return createFastVertex(graph, name, idx, paramsView, initializeParams, dataType);
    }

    @Override
    public IUpdater getUpdaterByParam(String param) {
        return isFrozenParam(param) ? new FrozenUpdater() : super.getUpdaterByParam(param);
    }

    @Override
    public List<Regularization> getRegularizationByParam(String param) {
        return isFrozenParam(param) ? Collections.emptyList() : super.getRegularizationByParam(param);
    }

    @Override
    public Pair<INDArray, MaskState> feedForwardMaskArrays(INDArray[] maskArrays, MaskState currentMaskState,
                                                           int minibatchSize) {
        // Token maps are dense: no per-token masks flow through SA2VP vertices.
        return new Pair<>(null, currentMaskState);
    }

    @Override
    public GraphVertex clone() {
        try {
            String json = NeuralNetConfiguration.mapper().writeValueAsString(this);
            return NeuralNetConfiguration.mapper().readValue(json, GraphVertex.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Checks that a vertex input is {@code [batch, tokens, dim]} tokens (NWC) of the expected size. */
    protected void checkTokens(String input, InputType type, long tokens, long dim) {
        if (!(type instanceof InputType.InputTypeRecurrent rnn)) {
            throw new IllegalArgumentException(describe() + ": input '" + input + "' must be token maps "
                    + "InputType.recurrent(" + dim + ", " + tokens + ", RNNFormat.NWC), got " + type);
        }
        if (rnn.getSize() != dim) {
            throw new IllegalArgumentException(describe() + ": input '" + input + "' has width " + rnn.getSize()
                    + ", expected hiddenSize " + dim);
        }
        if (rnn.getTimeSeriesLength() > 0 && rnn.getTimeSeriesLength() != tokens) {
            throw new IllegalArgumentException(describe() + ": input '" + input + "' has "
                    + rnn.getTimeSeriesLength() + " tokens, expected " + tokens + " from the configured grid");
        }
    }

    /** Checks a runtime input array {@code [B, tokens, dim]}. */
    protected void checkTokens(String input, INDArray array, long tokens, long dim) {
        if (array.rank() != 3 || array.size(1) != tokens || array.size(2) != dim) {
            throw new IllegalArgumentException(describe() + ": input '" + input + "' has shape "
                    + java.util.Arrays.toString(array.shape()) + ", expected [batch, " + tokens + ", " + dim
                    + "] (tokens from the configured grid and class token, width = hiddenSize)");
        }
    }

    /** How messages name this vertex: its class, and its name in the graph once it has one. */
    protected String describe() {
        return ConfigSupport.owner(getClass().getSimpleName(), getName());
    }

    /** Fails with "Vertex 'name': field must be expected, got actual" unless {@code ok}. */
    protected void require(boolean ok, String field, String expected, Object actual) {
        ConfigSupport.check(ok, describe(), field, expected, actual);
    }
}
