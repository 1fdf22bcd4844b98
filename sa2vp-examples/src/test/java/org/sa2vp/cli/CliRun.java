package org.sa2vp.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** One {@code sa2vp} command line run in-process: exit code, stdout, stderr (also echoed to the test log). */
record CliRun(int code, String out, String err) {

    static CliRun of(String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Sa2vpCli.execute(args);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        CliRun r = new CliRun(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        System.out.print(r.out());
        System.out.print(r.err());
        return r;
    }
}
