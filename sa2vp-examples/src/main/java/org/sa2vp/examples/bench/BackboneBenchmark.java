package org.sa2vp.examples.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.backbone.vit.VisionTransformer;
import org.sa2vp.backbone.vit.VitCheckpoint;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Benchmark (not a test): plain ViT forward at a given batch, our DL4J backbone against Microsoft onnxruntime on
 * the same ONNX file, in the same run. Each engine runs in its own child JVM so that peak memory is its own.
 * <pre>
 *   BackboneBenchmark [--onnx FILE] [--batch 8] [--steps 5]
 * </pre>
 * Without {@code --onnx}, a torchvision {@code vit_b_16} with random weights is exported to
 * {@code bench-out/vit_b16.onnx} by {@code tools/bench/export_vit_onnx.py} (Debian python3-torch). The DL4J side
 * loads its weights from that same file's initializers. The last line is a JSON object with the ratio.
 */
public final class BackboneBenchmark {

    private BackboneBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int batch = BenchSupport.intArg(args, "--batch", 8);
        int steps = BenchSupport.intArg(args, "--steps", 5);
        String engine = BenchSupport.stringArg(args, "--engine", null);
        Path onnx = Path.of(BenchSupport.stringArg(args, "--onnx", BenchSupport.repoFile("bench-out").resolve(
                "vit_b16.onnx").toString()));
        if (engine != null) {
            System.out.println(engine.equals("dl4j") ? dl4j(onnx, batch, steps) : onnxRuntime(onnx, batch, steps));
            return;
        }
        if (!Files.exists(onnx)) {
            export(onnx);
        }
        String ours = child(onnx, "dl4j", batch, steps);
        String ort = child(onnx, "ort", batch, steps);
        System.out.println(ours);
        System.out.println(ort);
        System.out.printf("{\"bench\":\"vit_forward_vs_onnxruntime\",\"batch\":%d,\"time_ratio\":%.2f,"
                        + "\"peak_rss_ratio\":%.2f}%n", batch,
                BenchSupport.field(ours, "forward_s") / BenchSupport.field(ort, "forward_s"),
                BenchSupport.field(ours, "peak_rss_mb") / BenchSupport.field(ort, "peak_rss_mb"));
    }

    private static INDArray images(int batch) {
        Nd4j.getRandom().setSeed(1);
        return Nd4j.rand(DataType.FLOAT, batch, 3, 224, 224).subi(0.5).muli(2);
    }

    private static String dl4j(Path onnx, int batch, int steps) throws Exception {
        long t0 = System.nanoTime();
        ComputationGraph graph = VitCheckpoint.read(onnx, VitCheckpoint.Options.defaults()).toGraph();
        double load = (System.nanoTime() - t0) / 1e9;
        INDArray x = images(batch);
        double forward = BenchSupport.median(steps, () -> graph.output(false, x));
        INDArray logits = VisionTransformer.logits(graph, x);
        return String.format("{\"engine\":\"dl4j\",\"batch\":%d,\"forward_s\":%.3f,\"load_s\":%.1f,"
                        + "\"peak_rss_mb\":%d,\"logit0\":%.5f}", batch, forward, load, BenchSupport.peakRssMb(),
                logits.getDouble(0, 0));
    }

    private static String onnxRuntime(Path onnx, int batch, int steps) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(Runtime.getRuntime().availableProcessors());
        try (OrtSession session = env.createSession(onnx.toString(), options)) {
            float[] data = images(batch).data().asFloat();
            String input = session.getInputNames().iterator().next();
            try (OnnxTensor tensor = OnnxTensor.createTensor(env, FloatBuffer.wrap(data),
                    new long[]{batch, 3, 224, 224})) {
                double forward = BenchSupport.median(steps, () -> {
                    try (OrtSession.Result r = session.run(Map.of(input, tensor))) {
                        r.get(0);
                    } catch (ai.onnxruntime.OrtException e) {
                        throw new IllegalStateException(e);
                    }
                });
                float logit0;
                try (OrtSession.Result r = session.run(Map.of(input, tensor))) {
                    logit0 = ((float[][]) r.get(0).getValue())[0][0];
                }
                return String.format("{\"engine\":\"onnxruntime\",\"batch\":%d,\"forward_s\":%.3f,"
                        + "\"peak_rss_mb\":%d,\"logit0\":%.5f}", batch, forward, BenchSupport.peakRssMb(), logit0);
            }
        }
    }

    private static void export(Path onnx) throws Exception {
        Files.createDirectories(onnx.toAbsolutePath().getParent());
        Process p = new ProcessBuilder("/usr/bin/python3", BenchSupport.repoFile("tools/bench/export_vit_onnx.py")
                .toString(), "--model", "vit_b_16", "--out", onnx.toString()).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("ONNX export failed (needs Debian python3-torch, python3-torchvision, "
                    + "python3-onnx)");
        }
    }

    /** Runs one engine in a child JVM with this JVM's class path; returns its JSON line. */
    private static String child(Path onnx, String engine, int batch, int steps) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xss4m", "-Xmx4g"));
        // The native build (e.g. -Dorg.bytedeco.javacpp.platform.extension=-onednn) carries over to the children.
        String extension = System.getProperty("org.bytedeco.javacpp.platform.extension");
        if (extension != null) {
            cmd.add("-Dorg.bytedeco.javacpp.platform.extension=" + extension);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), BackboneBenchmark.class.getName(),
                "--engine", engine, "--onnx", onnx.toString(), "--batch", Integer.toString(batch), "--steps",
                Integer.toString(steps)));
        // Our side runs as the sa2vp launcher runs it: native worker threads sleep between ops instead of spinning on
        // the cores the Java kernels use. onnxruntime (neither OpenMP nor OpenBLAS) keeps its defaults.
        Map<String, String> environment = engine.equals("dl4j") ? BenchSupport.NATIVE_THREAD_ENVIRONMENT : Map.of();
        return BenchSupport.lastJsonLine(cmd, environment, engine + " benchmark failed");
    }
}
