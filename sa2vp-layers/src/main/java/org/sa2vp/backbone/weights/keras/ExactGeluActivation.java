package org.sa2vp.backbone.weights.keras;

import lombok.EqualsAndHashCode;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.BaseActivationFunction;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.layers.runtime.ActivationKernel;
import org.sa2vp.layers.runtime.AdapterActivation;

/**
 * Exact GELU {@code x·Φ(x) = 0.5·x·(1 + erf(x/√2))} as a DL4J activation, for imported Keras layers with
 * {@code activation="gelu"} (Keras's default is {@code approximate=False}, the erf form).
 *
 * <p>Why: DL4J 1.0.0-M2.1's Keras import has no mapping for "gelu" at all ({@code KerasActivationUtils} throws
 * "Unknown Keras activation function gelu"), and ND4J's own {@code ActivationGELU} is the sigmoid approximation
 * {@code x·σ(1.702x)} (about 2e-2 off) or, with {@code precise=true}, a form measured as wrong ({@code docs/DL4J-NOTES.md} §5).
 * Works element-wise on any shape.
 */
@EqualsAndHashCode(callSuper = false)
public class ExactGeluActivation extends BaseActivationFunction {

    @Override
    public INDArray getActivation(INDArray in, boolean training) {
        return in.assign(ActivationKernel.forward(AdapterActivation.GELU, in));
    }

    @Override
    public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
        assertShape(in, epsilon);
        return new Pair<>(ActivationKernel.backward(AdapterActivation.GELU, in, epsilon), null);
    }

    @Override
    public String toString() {
        return "gelu(exact erf)";
    }
}
