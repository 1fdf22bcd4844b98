package org.sa2vp.train;

import lombok.Data;
import lombok.NoArgsConstructor;
import org.sa2vp.config.ConfigSupport;
import org.sa2vp.method.TuningMethod;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything besides the network that a resumed run needs to continue exactly as an uninterrupted one: the
 * position in the data order, the partial epoch's loss sum, the best accuracy so far, ND4J's random-generator
 * state (dropout), the model and training configurations, and the per-epoch history. Stored as
 * {@code state.json} next to {@code last.zip}; it is written last, so it always describes a complete checkpoint.
 */
@Data
@NoArgsConstructor
public class TrainingState {


    public static final int FORMAT = 1;

    private int format = FORMAT;
    /** Completed epochs = the 0-based index of the epoch to run next. */
    private int epoch;
    /** Iterations of {@link #epoch} already done (0 at an epoch boundary). */
    private int iterationInEpoch;
    /** Optimizer steps done in total (the network's iteration count). */
    private int globalIteration;
    private int iterationsPerEpoch;
    /** Size of the training set the run was started on (the data order depends on it); −1: a DL4J iterator. */
    private int trainSize;
    /** {@code LabelledImages.fingerprint()} of the training set (null: an iterator, or a run of the first format). */
    private String trainFingerprint;
    /** Sum of the training losses of the first {@link #iterationInEpoch} steps of the current epoch. */
    private double epochLossSum;
    /** Wall-clock seconds already spent on the current epoch. */
    private double epochSeconds;
    /** Learning rate of the last step done. */
    private double learningRate;
    /** Best validation accuracy so far (−1 before any evaluation). */
    private double bestAccuracy = -1;
    /** 1-based epoch of {@code best.zip}, 0 if none yet. */
    private int bestEpoch;
    /** ND4J RNG state after the last step ({@code Nd4j.getRandom().rootState()/nodeState()}); null: not started. */
    private Long rngRootState;
    private Long rngNodeState;
    private boolean finished;
    private TuningMethod config;
    private TrainingRecipe recipe;
    private List<EpochRecord> history = new ArrayList<>();

    public String toJson() {
        try {
            return ConfigSupport.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(this);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static TrainingState fromJson(String json, String source) {
        try {
            TrainingState state = ConfigSupport.mapper().readValue(json, TrainingState.class);
            if (state.format != FORMAT) {
                throw new IllegalArgumentException(source + ": training state format " + state.format
                        + ", this version reads " + FORMAT);
            }
            if (state.config == null || state.recipe == null) {
                throw new IllegalArgumentException(source + ": training state without model or recipe configuration");
            }
            state.config.validated();
            state.recipe.validated();
            return state;
        } catch (IOException e) {
            throw new IllegalArgumentException(source + ": not a training state file (" + e.getMessage() + ")", e);
        }
    }

    public static TrainingState read(Path file) {
        try {
            return fromJson(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file.getParent() + " holds no training run to resume (no "
                    + file.getFileName() + ")");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    public void write(Path file) {
        AtomicFiles.writeString(file, toJson());
    }
}
