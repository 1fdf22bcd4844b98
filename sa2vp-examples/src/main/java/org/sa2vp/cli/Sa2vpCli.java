package org.sa2vp.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code sa2vp} command line: {@code java -jar sa2vp-examples/target/sa2vp.jar <command>} or {@code ./sa2vp}. */
@Command(name = "sa2vp", mixinStandardHelpOptions = true, version = "sa2vp 0.1.0",
        description = "SA2VP visual prompt tuning for Deeplearning4j.",
        subcommands = {DemoCommand.class, TrainCommand.class, EvalCommand.class, InferCommand.class, PredictCommand.class, InfoCommand.class,
                BenchCommand.class, PretrainCommand.class, MiniVtabCommand.class, MiniVtabSweepCommand.class, BenchmarksCommand.class,
                TableCommand.class, AblateCommand.class,
                CommandLine.HelpCommand.class})
public final class Sa2vpCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /**
     * Runs a command line. Expected failures print one line to stderr, {@code sa2vp <command>: <message>}, and give
     * exit code 2: bad input (a missing or malformed file, dataset, checkpoint or image; an option the run refuses),
     * and a training loss that became NaN or infinite (the run folder keeps its last good checkpoint).
     */
    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new Sa2vpCli());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof org.sa2vp.backbone.weights.CheckpointException || e instanceof IllegalArgumentException
                    || e instanceof java.io.UncheckedIOException || e instanceof org.sa2vp.train.NonFiniteLossException
                    || e instanceof org.sa2vp.data.MissingDatasetException) {
                commandLine.getErr().println("sa2vp " + commandLine.getCommandName() + ": " + e.getMessage());
                return 2;
            }
            throw e;
        });
        return cli.execute(args);
    }
}
