package org.sa2vp.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every command's {@code --help} prints its usage and nothing on stderr: no picocli format warning (a lone
 * {@code %} in a description), no DL4J or ND4J start-up line.
 */
class HelpTextTest {

    @Test
    void everyHelpIsQuiet() {
        List<String[]> runs = new ArrayList<>();
        runs.add(new String[]{"--help"});
        for (String command : new CommandLine(new Sa2vpCli()).getSubcommands().keySet()) {
            if (!command.equals("help")) {
                runs.add(new String[]{command, "--help"});
            }
        }
        assertTrue(runs.size() > 10, "every subcommand: " + runs.size());
        for (String[] args : runs) {
            CliRun run = CliRun.of(args);
            String name = String.join(" ", args);
            assertEquals(0, run.code(), name);
            assertEquals("", run.err(), name + " writes nothing on stderr");
            assertTrue(run.out().startsWith("Usage: sa2vp"), name + ": " + run.out());
            assertFalse(run.out().contains("WARN"), name + ": " + run.out());
        }
    }
}
