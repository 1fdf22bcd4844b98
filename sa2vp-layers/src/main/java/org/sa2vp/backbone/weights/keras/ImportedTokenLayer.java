package org.sa2vp.backbone.weights.keras;

import lombok.Data;
import lombok.EqualsAndHashCode;
import lombok.NoArgsConstructor;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.sa2vp.layers.FastSameDiffLayer;

/**
 * Common part of the DL4J layers that imported Keras ViT layers become, on top of every layer's runtime choice
 * ({@link FastSameDiffLayer}): sizes that may come from the input type, and the token-map input checks.
 *
 * <p>Token maps are {@code [B, T, D]} arrays, {@code InputType.recurrent(D, T, RNNFormat.NWC)}.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public abstract class ImportedTokenLayer extends FastSameDiffLayer {

    protected ImportedTokenLayer(Builder<?> builder) {
        super(builder);
    }

    /**
     * Throws {@link IllegalArgumentException} naming the field and the expected value. Sizes may be 0 while the
     * configuration waits for {@link #setNIn} to take them from the input type; {@link #instantiate} then requires
     * them through {@link #requireSizes()}.
     */
    @Override
    public abstract void validate();

    /** Throws {@link IllegalArgumentException} when a size is still unknown (0). */
    protected abstract void requireSizes();

    /** The token map {@code InputType.recurrent(width, T, NWC)} this layer accepts, or an error naming the layer. */
    protected InputType.InputTypeRecurrent tokenMap(InputType inputType) {
        if (!(inputType instanceof InputType.InputTypeRecurrent rnn) || rnn.getTimeSeriesLength() <= 0) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " '" + getLayerName()
                    + "': input must be a token map InputType.recurrent(D, T, RNNFormat.NWC) with known T, got "
                    + inputType);
        }
        return rnn;
    }

    /** Sizes taken from the input type must be known by now. */
    @Override
    protected void checkBeforeInstantiate() {
        validate();
        requireSizes();
    }

    /** Builder part shared by the imported token layers. */
    public abstract static class Builder<T extends Builder<T>> extends FastSameDiffLayer.Builder<T> {
    }
}
