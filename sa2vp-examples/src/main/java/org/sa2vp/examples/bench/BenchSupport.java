package org.sa2vp.examples.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Timing and memory helpers shared by the benchmarks. */
public final class BenchSupport {

    private BenchSupport() {
    }

    /**
     * The environment the {@code ./sa2vp} launcher gives the JVM (and the Maven test runs get from the pom): libgomp
     * and OpenBLAS worker threads sleep as soon as an op ends instead of spinning (OpenBLAS: 2^4 cycles instead of
     * 2^28, spent in sched_yield) on the cores our Java kernels run on next. Both are read when the native libraries
     * load, so they only reach a JVM or Python process through its environment.
     */
    public static final java.util.Map<String, String> NATIVE_THREAD_ENVIRONMENT =
            java.util.Map.of("OMP_WAIT_POLICY", "PASSIVE", "OPENBLAS_THREAD_TIMEOUT", "4");

    /** Median wall time of {@code steps} runs of {@code body} after one warm-up run, in seconds. */
    public static double median(int steps, Runnable body) {
        body.run();
        List<Double> times = new ArrayList<>();
        for (int i = 0; i < steps; i++) {
            long t0 = System.nanoTime();
            body.run();
            times.add((System.nanoTime() - t0) / 1e9);
        }
        times.sort(Double::compare);
        return times.get(times.size() / 2);
    }

    /** Peak resident set (VmHWM) of this process in MB. */
    public static long peakRssMb() throws java.io.IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("\\D+", "")) / 1024;
            }
        }
        return -1;
    }

    /** A path under the repository root (the nearest directory upwards that holds {@code tools/bench}). */
    public static Path repoFile(String relative) {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("tools").resolve("bench"))) {
                return dir.resolve(relative);
            }
        }
        return Path.of(relative);
    }

    /** A numeric field of a one-line JSON object. */
    public static double field(String json, String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + name + "\"\\s*:\\s*([-0-9.eE]+)")
                .matcher(json);
        if (!m.find()) {
            throw new IllegalStateException("no field " + name + " in " + json);
        }
        return Double.parseDouble(m.group(1));
    }

    public static int intArg(String[] args, String name, int def) {
        String v = stringArg(args, name, null);
        return v == null ? def : Integer.parseInt(v);
    }

    public static String stringArg(String[] args, String name, String def) {
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return def;
    }

    /**
     * Runs a benchmark process (stderr passed through) and returns the last line of its stdout that is a JSON
     * object; fails with {@code failure} when it exits non-zero or prints none.
     */
    public static String lastJsonLine(java.util.List<String> command, String failure) throws Exception {
        return lastJsonLine(command, java.util.Map.of(), failure);
    }

    /** As above, with {@code environment} added to the child's (where it does not set the variable already). */
    public static String lastJsonLine(java.util.List<String> command, java.util.Map<String, String> environment,
                                      String failure) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
        environment.forEach(builder.environment()::putIfAbsent);
        Process p = builder.start();
        String last = null;
        try (java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(
                p.getInputStream()))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("{")) {
                    last = line;
                }
            }
        }
        if (p.waitFor() != 0 || last == null) {
            throw new IllegalStateException(failure);
        }
        return last;
    }
}
