package org.sa2vp.backbone;

import lombok.Data;
import lombok.EqualsAndHashCode;
import lombok.NoArgsConstructor;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.sa2vp.layers.FastSameDiffLayer;
import org.sa2vp.layers.FrozenUpdater;

import java.util.Collections;
import java.util.List;

/**
 * Common configuration of the layers of a pretrained backbone: freezing, on top of the runtime choice of every
 * layer ({@link FastSameDiffLayer}).
 *
 * <p>A frozen backbone layer (the default) keeps its weights bitwise unchanged under any updater and weight
 * decay ({@link FrozenUpdater}, no regularisation) but still passes the gradient to its input, which DL4J's
 * {@code FrozenLayer} does not: SA2VP trains prompts that enter the backbone below frozen blocks. The FAST
 * runtime computes no weight gradients for a frozen layer.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@NoArgsConstructor
public abstract class BackboneLayer extends FastSameDiffLayer {

    protected boolean frozen = true;

    protected BackboneLayer(Builder<?> b) {
        super(b);
        frozen = b.frozen;
    }

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

    @Override
    public IUpdater getUpdaterByParam(String param) {
        return isFrozenParam(param) ? new FrozenUpdater() : super.getUpdaterByParam(param);
    }

    @Override
    public List<Regularization> getRegularizationByParam(String param) {
        return isFrozenParam(param) ? Collections.emptyList() : super.getRegularizationByParam(param);
    }

    /** Builder options shared by all backbone layers: freezing. */
    @SuppressWarnings("unchecked")
    public abstract static class Builder<T extends Builder<T>> extends FastSameDiffLayer.Builder<T> {
        private boolean frozen = true;

        /** Default true: weights never change; gradients still flow to the input. */
        public T frozen(boolean frozen) {
            this.frozen = frozen;
            return (T) this;
        }
    }
}
