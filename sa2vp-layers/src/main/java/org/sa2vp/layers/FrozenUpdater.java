package org.sa2vp.layers;

import lombok.Data;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;

import java.util.Collections;
import java.util.Map;

/**
 * Updater of frozen parameters: the update is exactly zero, whatever the gradient holds (DL4J's {@code NoOp}
 * applies the raw gradient, and {@code Sgd(0)} turns a NaN gradient into a NaN update). No state.
 */
@Data
public class FrozenUpdater implements IUpdater {

    @Override
    public long stateSize(long numParams) {
        return 0;
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        return new Zero(this);
    }

    @Override
    public GradientUpdater instantiate(Map<String, INDArray> updaterState, boolean initializeStateArrays) {
        return new Zero(this);
    }

    @Override
    public FrozenUpdater clone() {
        return new FrozenUpdater();
    }

    @Override
    public double getLearningRate(int iteration, int epoch) {
        return 0;
    }

    @Override
    public boolean hasLearningRate() {
        return false;
    }

    @Override
    public void setLrAndSchedule(double lr, org.nd4j.linalg.schedule.ISchedule lrSchedule) {
        throw new UnsupportedOperationException("Frozen parameters have no learning rate");
    }

    private record Zero(FrozenUpdater config) implements GradientUpdater<FrozenUpdater> {
        @Override
        public FrozenUpdater getConfig() {
            return config;
        }

        @Override
        public void setState(Map<String, INDArray> stateMap, boolean initialize) {
        }

        @Override
        public Map<String, INDArray> getState() {
            return Collections.emptyMap();
        }

        @Override
        public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder,
                                      boolean initialize) {
        }

        @Override
        public void applyUpdater(INDArray gradient, int iteration, int epoch) {
            gradient.assign(0);
        }
    }
}
