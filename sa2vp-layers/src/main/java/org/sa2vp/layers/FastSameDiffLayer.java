package org.sa2vp.layers;

import lombok.Data;
import lombok.EqualsAndHashCode;
import lombok.NoArgsConstructor;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.config.ConfigSupport;
import org.sa2vp.layers.runtime.FastLayer;
import org.sa2vp.layers.runtime.SameDiffGradientFixLayer;

import java.util.Collection;

/**
 * The one base of this library's DL4J layers (SA2VP's, the backbones', the Keras-import ones): a serialisable
 * configuration with two runtimes, the hand-written {@link Implementation#FAST} one (default) and the layer's
 * SameDiff definition run with M2.1's doubled-gradient fix ({@link Implementation#SAMEDIFF}, the checked
 * reference), and field checks with one-line messages. The graph vertices' base is {@link Sa2vpVertex}.
 *
 * <p>A subclass defines its parameters and SameDiff graph as any {@link SameDiffLayer}, plus
 * {@link #validate()}, {@link #createFastRuntime} and, when it has dropout, {@link #usesDropout()}.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public abstract class FastSameDiffLayer extends SameDiffLayer {

    protected Implementation implementation = Implementation.FAST;

    protected FastSameDiffLayer(Builder<?> builder) {
        super(builder);
        implementation = builder.implementation;
    }

    /** Throws {@link IllegalArgumentException} naming the field and the expected value ({@link #require}). */
    public abstract void validate();

    /**
     * Whether dropout is active in training. The SameDiff runtime cannot apply it (DL4J M2.1 does not pass the
     * training flag to SameDiff layers), so such a layer refuses {@link Implementation#SAMEDIFF}.
     */
    public boolean usesDropout() {
        return false;
    }

    /** The FAST runtime of this configuration. */
    protected abstract FastLayer createFastRuntime(NeuralNetConfiguration conf, DataType dataType);

    /** What must hold before a runtime is made; {@link #validate()} unless a subclass needs more. */
    protected void checkBeforeInstantiate() {
        validate();
    }

    /** Fails with "Layer 'name': field must be expected, got actual" unless {@code ok}. */
    public void require(boolean ok, String field, String expected, Object actual) {
        ConfigSupport.check(ok, describe(), field, expected, actual);
    }

    /** How messages name this layer: its class, and its name in the graph once it has one. */
    public String describe() {
        return ConfigSupport.owner(getClass().getSimpleName(), getLayerName());
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
                             INDArray view, boolean initializeParams, DataType dataType) {
        checkBeforeInstantiate();
        org.deeplearning4j.nn.layers.samediff.SameDiffLayer layer;
        if (implementation == Implementation.SAMEDIFF) {
            if (usesDropout()) {
                throw new IllegalStateException(describe() + ": implementation SAMEDIFF cannot apply dropout (DL4J "
                        + "M2.1 does not pass the training flag to SameDiff layers); set dropout(0) or use "
                        + "Implementation.FAST");
            }
            layer = new SameDiffGradientFixLayer(conf, dataType);
        } else {
            layer = createFastRuntime(conf, dataType);
        }
        return wire(layer, conf, listeners, layerIndex, view, initializeParams, initializer());
    }

    /**
     * Hands DL4J a runtime as {@code SameDiffLayer.instantiate} does: index, listeners, parameter views and
     * configuration. Also for {@code TokenSelectLayer}, which must extend {@code SameDiffLambdaLayer} for DL4J's
     * Keras import and so cannot extend this class.
     */
    public static Layer wire(org.deeplearning4j.nn.layers.samediff.SameDiffLayer runtime, NeuralNetConfiguration conf,
                             Collection<TrainingListener> listeners, int layerIndex, INDArray view,
                             boolean initializeParams, ParamInitializer initializer) {
        runtime.setIndex(layerIndex);
        runtime.setListeners(listeners);
        runtime.setParamsViewArray(view);
        runtime.setParamTable(initializer.init(conf, view, initializeParams));
        runtime.setConf(conf);
        return runtime;
    }

    /** Builder options shared by every layer: the runtime. */
    @SuppressWarnings("unchecked")
    public abstract static class Builder<T extends Builder<T>> extends SameDiffLayer.Builder<T> {
        private Implementation implementation = Implementation.FAST;

        /** Runtime of forward and backward: {@code FAST} (default) or the {@code SAMEDIFF} reference. */
        public T implementation(Implementation implementation) {
            this.implementation = implementation;
            return (T) this;
        }
    }
}
