package org.sa2vp.backbone.weights;

import org.sa2vp.TestArrays;
import org.sa2vp.backbone.vit.VitFixtures;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.FloatBuffer;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs every ONNX fixture with Microsoft onnxruntime on {@code input.npy} and compares with the PyTorch logits in
 * {@code reference.npz} (the fixtures are real, runnable exports of the reference model), then compares our ViT graph
 * built from the same file's initializers with onnxruntime's logits.
 *
 * <p>How to call ORT from tests: onnxruntime 1.29 can crash (SIGSEGV, no hs_err file) in
 * {@code OrtEnvironment.getEnvironment()} on a thread with a small stack when the classpath is long, as any DL4J
 * classpath is. Surefire's argLine has {@code -Xss4m}; in addition all ORT work here runs on a thread with a 64 MB
 * stack ({@link #onBigStack}), so the test does not depend on that JVM flag. {@code ai.onnxruntime.OnnxTensor} is
 * written out in full because this package has its own {@link OnnxTensor}.
 */
class OnnxRuntimeSanityTest {

    private static final double TOLERANCE = 1e-5;

    @ParameterizedTest
    @ValueSource(strings = {"torchvision_opset13.onnx", "torchvision_opset17.onnx", "timm_opset14.onnx",
            "hf_opset17.onnx"})
    void onnxRuntimeReproducesTorchLogits(String onnx) throws Exception {
        INDArray input = VitFixtures.input();
        INDArray expected = VitFixtures.npz("reference.npz").get("logits");
        float[][] logits = onBigStack(() -> run(onnx, input));

        assertEquals(expected.rows(), logits.length);
        double maxDiff = 0;
        for (int i = 0; i < logits.length; i++) {
            assertEquals(expected.columns(), logits[i].length);
            for (int j = 0; j < logits[i].length; j++) {
                maxDiff = Math.max(maxDiff, Math.abs(logits[i][j] - expected.getDouble(i, j)));
            }
        }
        assertTrue(maxDiff <= TOLERANCE, onnx + ": max |ORT - torch| = " + maxDiff);

        // Our ViT graph, built from the same file's initializers (heads read from the graph), against ORT.
        INDArray ours = org.sa2vp.backbone.vit.VisionTransformer.logits(org.sa2vp.backbone.vit.VitCheckpoint.read(
                VitFixtures.file(onnx), org.sa2vp.backbone.vit.VitCheckpoint.Options.defaults()).toGraph(), input);
        double oursVsOrt = TestArrays.maxAbsDiff(ours, org.nd4j.linalg.factory.Nd4j.createFromArray(logits));
        System.out.printf("%s: max|ORT - torch| %.2e, max|DL4J - ORT| %.2e%n", onnx, maxDiff, oursVsOrt);
        assertTrue(oursVsOrt <= 1e-4, onnx + ": max |DL4J - ORT| = " + oursVsOrt);
    }

    private static float[][] run(String onnx, INDArray input) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            try (OrtSession session = env.createSession(VitFixtures.file(onnx).toString(), options);
                 ai.onnxruntime.OnnxTensor x = ai.onnxruntime.OnnxTensor.createTensor(env,
                         FloatBuffer.wrap(input.data().asFloat()), input.shape());
                 OrtSession.Result result = session.run(Map.of("input", x))) {
                assertArrayEquals(new long[] {2, 3, 32, 32}, input.shape());
                return (float[][]) result.get("logits").orElseThrow().getValue();
            }
        }
    }

    /** Runs {@code work} on a fresh thread with a 64 MB stack and returns its result or rethrows its failure. */
    static <T> T onBigStack(Callable<T> work) throws Exception {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread thread = new Thread(null, () -> {
            try {
                result.set(work.call());
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "onnxruntime", 64L << 20);
        thread.start();
        thread.join();
        if (failure.get() instanceof Exception e) {
            throw e;
        }
        if (failure.get() instanceof Error e) {
            throw e;
        }
        return result.get();
    }
}
