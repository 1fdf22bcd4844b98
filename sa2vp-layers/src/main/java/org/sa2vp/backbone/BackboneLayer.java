package org.sa2vp.backbone;

import lombok.Data;
import lombok.EqualsAndHashCode;
import lombok.NoArgsConstructor;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.sa2vp.layers.FrozenUpdater;
import org.sa2vp.layers.Implementation;
import org.sa2vp.layers.runtime.FastLayer;
import org.sa2vp.layers.runtime.SameDiffGradientFixLayer;

import java.util.Collection;
import java.util.Collections;
import java.util.List;

/**
 * Common configuration of the layers of a pretrained backbone: the choice of runtime and freezing.
 *
 * <p>A frozen backbone layer (the default) keeps its weights bitwise unchanged under any updater and weight
 * decay ({@link FrozenUpdater}, no regularisation) but still passes the gradient to its input, which DL4J's
 * {@code FrozenLayer} does not: SA2VP trains prompts that enter the backbone below frozen blocks. The FAST
 * runtime computes no weight gradients for a frozen layer.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public abstract class BackboneLayer extends SameDiffLayer {

    protected Implementation implementation = Implementation.FAST;
    protected boolean frozen = true;

    protected BackboneLayer(Builder<?> b) {
        super(b);
        implementation = b.implementation;
        frozen = b.frozen;
    }

    /** Throws {@link IllegalArgumentException} naming the field and the expected value. */
    public abstract void validate();

    /** Whether dropout is active in training (the SameDiff runtime cannot apply it). */
    public abstract boolean usesDropout();

    /** True for parameters that never train, even when the layer is not frozen (e.g. absent qkv biases). */
    public boolean isFixedParam(String param) {
        return false;
    }

    /** True for the pretrained backbone's parameters (all, unless a subclass adds trainable ones). */
    public boolean isBackboneParam(String param) {
        return true;
    }

    public boolean isFrozenParam(String param) {
        return (frozen && isBackboneParam(param)) || isFixedParam(param);
    }

    /** The gradient view of {@code param}, or null when it is frozen (the fast runtimes then skip its GEMM). */
    public INDArray trainableGradient(java.util.Map<String, INDArray> gradients, String param) {
        return isFrozenParam(param) ? null : gradients.get(param);
    }

    protected abstract FastLayer createFastRuntime(NeuralNetConfiguration conf, DataType dataType);

    @Override
    public IUpdater getUpdaterByParam(String param) {
        return isFrozenParam(param) ? new FrozenUpdater() : super.getUpdaterByParam(param);
    }

    @Override
    public List<Regularization> getRegularizationByParam(String param) {
        return isFrozenParam(param) ? Collections.emptyList() : super.getRegularizationByParam(param);
    }

    /** Fails with "Layer 'name': field must be expected, got actual" unless {@code ok}. */
    public void require(boolean ok, String field, String expected, Object actual) {
        if (!ok) {
            throw new IllegalArgumentException(getClass().getSimpleName() + (getLayerName() == null ? "" : " '"
                    + getLayerName() + "'") + ": " + field + " must be " + expected + ", got " + actual);
        }
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
                             INDArray view, boolean initializeParams, DataType dataType) {
        validate();
        org.deeplearning4j.nn.layers.samediff.SameDiffLayer layer;
        if (implementation == Implementation.SAMEDIFF) {
            if (usesDropout()) {
                throw new IllegalStateException(getClass().getSimpleName() + " '" + getLayerName() + "': "
                        + "implementation SAMEDIFF cannot apply dropout (DL4J M2.1 does not pass the training flag "
                        + "to SameDiff layers); set dropout(0) or use Implementation.FAST");
            }
            layer = new SameDiffGradientFixLayer(conf, dataType);
        } else {
            layer = createFastRuntime(conf, dataType);
        }
        layer.setIndex(layerIndex);
        layer.setListeners(listeners);
        layer.setParamsViewArray(view);
        layer.setParamTable(initializer().init(conf, view, initializeParams));
        layer.setConf(conf);
        return layer;
    }

    /** Builder options shared by all backbone layers. */
    @SuppressWarnings("unchecked")
    public abstract static class Builder<T extends Builder<T>> extends SameDiffLayer.Builder<T> {
        private Implementation implementation = Implementation.FAST;
        private boolean frozen = true;

        public T implementation(Implementation implementation) {
            this.implementation = implementation;
            return (T) this;
        }

        /** Default true: weights never change; gradients still flow to the input. */
        public T frozen(boolean frozen) {
            this.frozen = frozen;
            return (T) this;
        }
    }
}
