package org.sa2vp.backbone.weights.keras;

import lombok.Data;
import lombok.EqualsAndHashCode;
import lombok.NoArgsConstructor;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.layers.Implementation;
import org.sa2vp.layers.runtime.FastLayer;
import org.sa2vp.layers.runtime.SameDiffGradientFixLayer;

import java.util.Collection;

/**
 * Common part of the DL4J layers that imported Keras ViT layers become: the choice between the hand-written
 * {@link Implementation#FAST} runtime (default) and the layer's SameDiff definition run with the M2.1 doubled-gradient
 * fix ({@link Implementation#SAMEDIFF}, the checked reference), and the token-map input checks.
 *
 * <p>Token maps are {@code [B, T, D]} arrays, {@code InputType.recurrent(D, T, RNNFormat.NWC)}.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public abstract class ImportedTokenLayer extends SameDiffLayer {

    private Implementation implementation = Implementation.FAST;

    protected ImportedTokenLayer(Builder<?> builder) {
        super(builder);
        implementation = builder.implementation;
    }

    /** The FAST runtime of this configuration. */
    protected abstract FastLayer fastRuntime(NeuralNetConfiguration conf, DataType dataType);

    /**
     * Throws {@link IllegalArgumentException} naming the field and the expected value. Sizes may be 0 while the
     * configuration waits for {@link #setNIn} to take them from the input type; {@link #instantiate} then requires
     * them through {@link #requireSizes()}.
     */
    public abstract void validate();

    /** Throws {@link IllegalArgumentException} when a size is still unknown (0). */
    protected abstract void requireSizes();

    /** Throws {@link IllegalArgumentException} naming the layer, the field and the expected value. */
    protected void check(boolean ok, String field, String expected, Object actual) {
        if (!ok) {
            throw new IllegalArgumentException(getClass().getSimpleName() + (getLayerName() == null ? "" : " '"
                    + getLayerName() + "'") + ": " + field + " must be " + expected + ", got " + actual);
        }
    }

    /** The token map {@code InputType.recurrent(width, T, NWC)} this layer accepts, or an error naming the layer. */
    protected InputType.InputTypeRecurrent tokenMap(InputType inputType) {
        if (!(inputType instanceof InputType.InputTypeRecurrent rnn) || rnn.getTimeSeriesLength() <= 0) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " '" + getLayerName()
                    + "': input must be a token map InputType.recurrent(D, T, RNNFormat.NWC) with known T, got "
                    + inputType);
        }
        return rnn;
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
                             INDArray view, boolean initializeParams, DataType dataType) {
        validate();
        requireSizes();
        org.deeplearning4j.nn.layers.samediff.SameDiffLayer layer = implementation == Implementation.SAMEDIFF
                ? new SameDiffGradientFixLayer(conf, dataType) : fastRuntime(conf, dataType);
        layer.setIndex(layerIndex);
        layer.setListeners(listeners);
        layer.setParamsViewArray(view);
        layer.setParamTable(initializer().init(conf, view, initializeParams));
        layer.setConf(conf);
        return layer;
    }

    /** Builder part shared by the imported token layers. */
    public abstract static class Builder<T extends Builder<T>> extends SameDiffLayer.Builder<T> {
        private Implementation implementation = Implementation.FAST;

        @SuppressWarnings("unchecked")
        public T implementation(Implementation implementation) {
            this.implementation = implementation;
            return (T) this;
        }
    }
}
