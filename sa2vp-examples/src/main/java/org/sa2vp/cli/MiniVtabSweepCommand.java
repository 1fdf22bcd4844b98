package org.sa2vp.cli;

import org.sa2vp.method.TuningMethods;
import org.sa2vp.zoo.minivtab.MiniVtab;
import org.sa2vp.zoo.minivtab.MiniVtabBenchmark;
import org.sa2vp.zoo.minivtab.MiniVtabSweep;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code sa2vp minivtab-sweep}: learning rates and epochs scored on val200, never on test. */
@Command(name = "minivtab-sweep", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains the chosen methods on each mini-VTAB task's train800 split at every learning rate and "
                + "epoch count given, each method's own recipe otherwise, and scores them on val200: a way to choose "
                + "a recipe without looking at test.",
                "--out receives sweep.csv (task, method, lr, epochs, seed, val_accuracy, seconds; one row per run, "
                        + "written as runs finish; rerunning the command skips finished runs)."},
        footer = {"", "Example:", "  sa2vp minivtab-sweep --out runs/sweep --tasks twemoji_category,optdigits_digit "
                + "--methods vpt-deep,sa2vp --lrs 3e-3,1e-2,3e-2,1e-1 --seeds 2"})
public final class MiniVtabSweepCommand implements Callable<Integer> {

    @Mixin
    MiniVtabFolders folders;

    @Option(names = "--tasks", split = ",", paramLabel = "TASK", defaultValue = "twemoji_category",
            description = "tasks (default ${DEFAULT-VALUE})")
    List<String> tasks;

    @Option(names = "--methods", split = ",", paramLabel = "METHOD", defaultValue = "vpt-deep,sa2vp",
            description = "methods (default ${DEFAULT-VALUE}): linear-probe, vpt-shallow, vpt-deep, full-finetune, "
                    + "sa2vp")
    List<String> methods;

    @Option(names = "--lrs", split = ",", paramLabel = "LR", defaultValue = "3e-3,1e-2,3e-2",
            description = "peak learning rates (default ${DEFAULT-VALUE})")
    double[] lrs;

    @Option(names = "--epochs", split = ",", paramLabel = "N", defaultValue = "" + MiniVtabBenchmark.EPOCHS,
            description = "epoch counts (default ${DEFAULT-VALUE})")
    int[] epochs;

    @Option(names = "--seeds", paramLabel = "N", defaultValue = "1", description = "seeds per combination (42, 43, "
            + "...; default ${DEFAULT-VALUE})")
    int seeds;

    @Override
    public Integer call() throws Exception {
        if (seeds < 1) {
            throw new IllegalArgumentException("--seeds must be >= 1, got " + seeds);
        }
        for (double lr : lrs) {
            if (!(lr > 0)) {
                throw new IllegalArgumentException("--lrs must be positive, got " + lr);
            }
        }
        for (int e : epochs) {
            if (e < 1) {
                throw new IllegalArgumentException("--epochs must be >= 1, got " + e);
            }
        }
        List<MiniVtab.Task> taskList = tasks.stream().map(MiniVtab.Task::fromFolderName).toList();
        List<String> methodList = methods.stream().map(TuningMethods::canonicalName).toList();
        List<MiniVtabSweep.Score> scores = MiniVtabSweep.run(folders.out, folders.open(taskList), methodList, lrs,
                epochs, seeds);
        System.out.println("wrote " + folders.out.resolve("sweep.csv") + " (" + scores.size() + " runs)");
        return 0;
    }
}
