package org.sa2vp.train;

import lombok.Data;
import lombok.NoArgsConstructor;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.nd4j.linalg.schedule.ISchedule;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adam exactly as {@code torch.optim.Adam}/{@code AdamW} computes its step (without the decay term):
 * <pre>
 *   m ← β₁m + (1−β₁)g          v ← β₂v + (1−β₂)g²          t = iteration + 1
 *   update = lr/(1−β₁ᵗ) · m / (√v / √(1−β₂ᵗ) + ε)
 * </pre>
 * Combined with DL4J's {@code WeightDecay(wd, applyLR = true)} (applied after the updater: update += lr·wd·θ),
 * the step {@code θ ← θ − update} is torch's AdamW, {@code θ ← θ(1 − lr·wd) − lr/(1−β₁ᵗ)·m/(√v̂ + ε)}.
 *
 * <p>Why not DL4J's {@code Adam}: its native {@code adam_updater} computes
 * {@code lr·√(1−β₂ᵗ)/(1−β₁ᵗ) · m/(√v + ε)}, i.e. ε is not bias-corrected (effectively ε/√(1−β₂ᵗ): 32× torch's at
 * the first step), and when the learning rate is 0, as on the first warm-up step of the SA2VP schedule, it
 * replaces the step size by ε instead of doing nothing. Both are measurable on small gradients
 * ({@code TrainingRecipeTest}).
 *
 * <p>State: m then v, each the size of the gradient (stored in DL4J's updater view, so saved with the model).
 */
@Data
@NoArgsConstructor
public class TorchAdam implements IUpdater {

    public static final String M_STATE = "M";
    public static final String V_STATE = "V";

    private double learningRate = 1e-3;
    /** Per-iteration learning rate; when set it overrides {@link #learningRate}. */
    private ISchedule learningRateSchedule;
    private double beta1 = 0.9;
    private double beta2 = 0.999;
    private double epsilon = 1e-8;

    public TorchAdam(ISchedule learningRateSchedule, double beta1, double beta2, double epsilon) {
        this.learningRateSchedule = learningRateSchedule;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
    }

    @Override
    public long stateSize(long numParams) {
        return 2 * numParams;
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        Updater updater = new Updater(this);
        long[] gradientShape = viewArray.shape().clone();
        gradientShape[gradientShape.length - 1] /= 2;
        updater.setStateViewArray(viewArray, gradientShape, viewArray.ordering(), initializeViewArray);
        return updater;
    }

    @Override
    public GradientUpdater instantiate(Map<String, INDArray> updaterState, boolean initializeStateArrays) {
        Updater updater = new Updater(this);
        updater.setState(updaterState, initializeStateArrays);
        return updater;
    }

    @Override
    public TorchAdam clone() {
        TorchAdam copy = new TorchAdam(learningRateSchedule == null ? null : learningRateSchedule.clone(), beta1,
                beta2, epsilon);
        copy.setLearningRate(learningRate);
        return copy;
    }

    @Override
    public double getLearningRate(int iteration, int epoch) {
        return learningRateSchedule != null ? learningRateSchedule.valueAt(iteration, epoch) : learningRate;
    }

    @Override
    public boolean hasLearningRate() {
        return true;
    }

    @Override
    public void setLrAndSchedule(double lr, ISchedule lrSchedule) {
        this.learningRate = lr;
        this.learningRateSchedule = lrSchedule;
    }

    /** The per-block state and step. */
    static final class Updater implements GradientUpdater<TorchAdam> {
        private final TorchAdam config;
        private INDArray m;
        private INDArray v;

        Updater(TorchAdam config) {
            this.config = config;
        }

        @Override
        public TorchAdam getConfig() {
            return config;
        }

        @Override
        public void setState(Map<String, INDArray> stateMap, boolean initialize) {
            if (!stateMap.containsKey(M_STATE) || !stateMap.containsKey(V_STATE) || stateMap.size() != 2) {
                throw new IllegalStateException("TorchAdam state must hold exactly " + M_STATE + " and " + V_STATE
                        + ", got " + stateMap.keySet());
            }
            m = stateMap.get(M_STATE);
            v = stateMap.get(V_STATE);
            if (initialize) {
                m.assign(0);
                v.assign(0);
            }
        }

        @Override
        public Map<String, INDArray> getState() {
            Map<String, INDArray> state = new LinkedHashMap<>();
            state.put(M_STATE, m);
            state.put(V_STATE, v);
            return state;
        }

        @Override
        public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder,
                                      boolean initialize) {
            if (initialize) {
                viewArray.assign(0);
            }
            // DL4J hands the updater a flat (1-D) gradient block, so flat state views suffice.
            INDArray flat = viewArray.reshape(viewArray.length());
            long half = flat.length() / 2;
            m = flat.get(NDArrayIndex.interval(0, half));
            v = flat.get(NDArrayIndex.interval(half, 2 * half));
        }

        @Override
        public void applyUpdater(INDArray gradient, int iteration, int epoch) {
            if (m == null) {
                throw new IllegalStateException("TorchAdam: updater state not initialised");
            }
            double b1 = config.getBeta1(), b2 = config.getBeta2();
            double lr = config.getLearningRate(iteration, epoch);
            int t = iteration + 1;
            INDArray g = gradient.reshape(m.shape());
            if (g.length() != m.length()) {
                throw new IllegalStateException("TorchAdam: gradient has " + g.length() + " values, state "
                        + m.length());
            }
            m.muli(b1).addi(g.mul(1 - b1));
            v.muli(b2).addi(g.mul(g).muli(1 - b2));
            double biasCorrection1 = 1 - Math.pow(b1, t);
            double biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(b2, t));
            INDArray denominator = Transforms.sqrt(v, true).divi(biasCorrection2Sqrt).addi(config.getEpsilon());
            INDArray update = m.div(denominator).muli(lr / biasCorrection1);
            gradient.assign(update.reshape(gradient.shape()));
        }
    }
}
