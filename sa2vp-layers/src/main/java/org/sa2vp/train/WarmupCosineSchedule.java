package org.sa2vp.train;

import lombok.Data;
import lombok.NoArgsConstructor;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.ScheduleType;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonIgnore;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * The authors' learning-rate schedule ({@code cosine_scheduler}, {@code docs/AUTHORS-CODE.md} §1.7),
 * one value per iteration ({@link ScheduleType#ITERATION}; the epoch argument is ignored):
 * <pre>
 *   i &lt; W:        np.linspace(0, base, W)[i]  = i·base/(W−1), and exactly base at i = W−1 (0 when W = 1)
 *   W ≤ i &lt; N:    final + ½(base − final)(1 + cos(π (i−W) / (N−W)))
 *   i ≥ N:        the value at N−1
 * </pre>
 * with W = warm-up iterations and N = total iterations. DL4J passes the network's global iteration count, which
 * starts at 0 and is saved with the model, so the first update uses lr 0 as in the authors' engine, and a
 * resumed run continues the schedule where it stopped.
 *
 * <p>Serialisable by DL4J's (shaded) Jackson like its own schedules: it is stored inside the updater
 * configuration of a saved network.
 */
@Data
@NoArgsConstructor
public class WarmupCosineSchedule implements ISchedule {

    private double baseValue;
    private double finalValue;
    private int warmupIterations;
    private int totalIterations;

    /**
     * @param baseValue        the peak value (the recipe's lr), reached at the last warm-up iteration
     * @param finalValue       the value the cosine decays towards (min lr)
     * @param warmupIterations W, warm-up epochs × iterations per epoch; 0 for none
     * @param totalIterations  N, epochs × iterations per epoch (≥ W, ≥ 1)
     */
    @JsonCreator
    public WarmupCosineSchedule(@JsonProperty("baseValue") double baseValue,
                                @JsonProperty("finalValue") double finalValue,
                                @JsonProperty("warmupIterations") int warmupIterations,
                                @JsonProperty("totalIterations") int totalIterations) {
        if (totalIterations < 1 || warmupIterations < 0 || warmupIterations > totalIterations) {
            throw new IllegalArgumentException("WarmupCosineSchedule: need 0 <= warmupIterations <= totalIterations "
                    + "and totalIterations >= 1, got warmup " + warmupIterations + ", total " + totalIterations);
        }
        this.baseValue = baseValue;
        this.finalValue = finalValue;
        this.warmupIterations = warmupIterations;
        this.totalIterations = totalIterations;
    }

    /** Always {@link ScheduleType#ITERATION}: the authors step the schedule every iteration. */
    @JsonIgnore
    public ScheduleType getScheduleType() {
        return ScheduleType.ITERATION;
    }

    @Override
    public double valueAt(int iteration, int epoch) {
        int i = Math.min(Math.max(iteration, 0), totalIterations - 1);
        if (i < warmupIterations) {
            if (i == warmupIterations - 1) {
                return warmupIterations == 1 ? 0.0 : baseValue;   // numpy: linspace(0, b, 1) == [0]
            }
            // numpy's linspace: step = (stop − start)/(num − 1); y = arange(num)·step + start
            return i * (baseValue / (warmupIterations - 1));
        }
        int t = i - warmupIterations;
        int cosineLength = totalIterations - warmupIterations;
        // The same operation order as the authors' Python expression.
        return finalValue + 0.5 * (baseValue - finalValue) * (1 + StrictMath.cos(Math.PI * t / cosineLength));
    }

    @Override
    public WarmupCosineSchedule clone() {
        return new WarmupCosineSchedule(baseValue, finalValue, warmupIterations, totalIterations);
    }
}
