package org.sa2vp.layers.runtime;

import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOps;
import org.nd4j.nativeblas.NativeOpsHolder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What decides how fast the kernels run on this machine, as {@code sa2vp info --system} prints it: the CPU's vector
 * instruction sets, the OpenBLAS core type (the GEMM kernels) in use and who chose it, ND4J's native build, and the
 * thread settings.
 *
 * <p>Why it matters: ND4J 1.0.0-M2.1 bundles OpenBLAS 0.3.19, whose kernels are picked per CPU at load time from
 * {@code OPENBLAS_CORETYPE} or, when that is unset, its own detection (which older builds get wrong on newer CPUs, so
 * some machines pin an older type). On an AVX-512 CPU the {@code Haswell} (AVX2) kernels run a ViT-B forward pass
 * about 1.6× slower than {@code SkylakeX}/{@code Cooperlake}. The {@code sa2vp} launcher picks the type for the CPU
 * (see the README, "CPU kernels"); this class only reports. OpenBLAS's {@code openblas_get_corename} is not mapped by
 * the JavaCPP preset ND4J uses, so the core type in use is read from OpenBLAS's own start-up report
 * ({@code OPENBLAS_VERBOSE=2} prints {@code Core: <type>}) in a child JVM with this process's environment.
 */
public final class NativeEnvironment {

    /** The CPU flags that matter to the kernels, in the order they are printed. */
    public static final List<String> VECTOR_FEATURES = List.of("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512dq",
            "avx512cd", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16");

    /** The environment variables that set the native thread pools and kernels, in the order they are printed. */
    public static final List<String> NATIVE_VARIABLES = List.of("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS",
            "OPENBLAS_THREAD_TIMEOUT", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS", "OMP_WAIT_POLICY",
            "SA2VP_OPENBLAS_CORETYPE", "SA2VP_OPENBLAS_CHOICE");

    private static final Pattern CORE_LINE = Pattern.compile("^Core: (\\S+)\\s*$", Pattern.MULTILINE);

    private NativeEnvironment() {
    }

    /** The CPU's model name from {@code /proc/cpuinfo}, or "unknown" where there is none (not Linux). */
    public static String cpuModel() {
        return cpuinfoField("model name");
    }

    /** The {@link #VECTOR_FEATURES} this CPU has, from {@code /proc/cpuinfo}'s flags (empty where unreadable). */
    public static List<String> vectorFeatures() {
        List<String> flags = List.of(cpuinfoField("flags").split("\\s+"));
        return VECTOR_FEATURES.stream().filter(flags::contains).toList();
    }

    /**
     * The OpenBLAS core type this process's GEMMs run on, as OpenBLAS reports it when it starts in a child JVM with
     * this environment; "unknown (…)" with the reason when the child cannot say.
     */
    public static String openBlasCoreType() {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), NativeEnvironment.class.getName()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("OPENBLAS_VERBOSE", "2");
        try {
            Process child = builder.start();
            byte[] output = child.getInputStream().readAllBytes();
            if (!child.waitFor(120, TimeUnit.SECONDS)) {
                child.destroyForcibly();
                return "unknown (the probe did not finish in 120 s)";
            }
            Matcher core = CORE_LINE.matcher(new String(output, StandardCharsets.UTF_8));
            return core.find() ? core.group(1) : "unknown (OpenBLAS printed no 'Core:' line)";
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown (interrupted)";
        }
    }

    /**
     * ND4J's backend and native build: the backend class, the instruction-set level its native library was built
     * for against the best this CPU supports (ND4J's own binary and optimal levels), and its build flags on one line.
     */
    public static String nd4jBuild() {
        Nd4j.create(1);
        NativeOps ops = NativeOpsHolder.getInstance().getDeviceNativeOps();
        String flags = String.join(", ", ops.buildInfo().strip().split("\\s*\\n\\s*"));
        return String.format("%s; native library level %d, this CPU's best %d (%s); %s",
                Nd4j.getBackend().getClass().getSimpleName(), ops.binaryLevel(), ops.optimalLevel(),
                ops.isOptimalRequirementsMet() ? "built for it" : "not built for it",
                flags);
    }

    /** Thread settings: ND4J's op threads, the JVM's processors, and every {@link #NATIVE_VARIABLES} that is set. */
    public static Map<String, String> threadSettings() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("processors (JVM)", Integer.toString(Runtime.getRuntime().availableProcessors()));
        out.put("ND4J threads", Nd4j.getEnvironment().maxThreads() + " (master " + Nd4j.getEnvironment()
                .maxMasterThreads() + ")");
        for (String variable : NATIVE_VARIABLES) {
            String value = System.getenv(variable);
            out.put(variable, value == null ? "(unset)" : value);
        }
        return out;
    }

    private static String cpuinfoField(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).strip().equals(field)) {
                    return line.substring(colon + 1).strip();
                }
            }
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
        return "unknown";
    }

    /** The probe of {@link #openBlasCoreType}: loads ND4J (and so OpenBLAS, which reports its core) and runs a GEMM. */
    public static void main(String[] args) {
        Nd4j.create(2, 2).mmul(Nd4j.create(2, 2));
    }
}
