package org.sa2vp.layers;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.Float64;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Double-precision gradient checks of every layer with DL4J's {@link GradientCheckUtil} (parameters) and a
 * central-difference check of the input gradients, for both runtimes; with frozen backbone weights the FAST
 * runtime must check on every trainable parameter and leave frozen gradients exactly zero.
 */
@ExtendWith(Float64.class)
class GradientCheckTest {

    static Stream<Arguments> cases() {
        List<Arguments> args = new ArrayList<>();
        for (Implementation impl : Implementation.values()) {
            for (boolean freeze : new boolean[]{false, true}) {
                if (impl == Implementation.SAMEDIFF && freeze) {
                    continue;
                }
                for (TinyLayers.Case c : TinyLayers.all(impl, freeze, 0.0)) {
                    args.add(Arguments.of(c, impl, freeze));
                }
            }
        }
        return args.stream();
    }

    @ParameterizedTest(name = "{0} {1} frozen={2}")
    @MethodSource("cases")
    void gradientsMatchFiniteDifferences(TinyLayers.Case c, Implementation impl, boolean freeze) {
        Harness h = TinyLayers.harness(c, DataType.DOUBLE, null);
        INDArray[] in = TinyLayers.inputs(c, DataType.DOUBLE, 2, 3);
        INDArray labels = TinyLayers.labels(c, DataType.DOUBLE, 2);

        Set<String> frozen = new HashSet<>();
        if (c.block() instanceof Sa2vpVertex v) {
            for (String p : h.params().keySet()) {
                if (v.isFrozenParam(p)) {
                    frozen.add("v_" + p);
                }
            }
        }
        boolean slow = impl == Implementation.SAMEDIFF;
        // Absolute floor 1e-8: with scores near 4 in double precision, central differences at eps 1e-6 carry about
        // 1e-9 of cancellation noise, enough to push a 1e-4 gradient just past 1e-5 relative.
        GradientCheckUtil.GraphConfig config = new GradientCheckUtil.GraphConfig().net(h.graph).inputs(in)
                .labels(new INDArray[]{labels}).epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(1e-8)
                .exitOnFirstError(false).excludeParams(frozen).subset(slow).maxPerParam(slow ? 4 : 0);
        boolean hasCheckedParams = h.params().size() > frozen.size();
        if (hasCheckedParams) {
            assertTrue(GradientCheckUtil.checkGradients(config), c + " " + impl + ": parameter gradient check failed");
        }

        // Input gradients of L = Σ out ⊙ G, against central differences (every input entry; a sample for SAMEDIFF).
        // SAMEDIFF: a fresh network with the same parameters; M2.1's SameDiff session can fail with a corrupt
        // axis argument when a gradient function that GradientCheckUtil ran hundreds of times is reused.
        if (slow) {
            Harness fresh = TinyLayers.harness(c, DataType.DOUBLE, null);
            fresh.graph.setParams(h.graph.params());
            h = fresh;
        }
        INDArray g = Nd4j.randn(DataType.DOUBLE, h.forward(in).shape());
        Pair<Map<String, INDArray>, INDArray[]> analytic = h.backward(g, in);
        for (String p : h.params().keySet()) {
            if (frozen.contains("v_" + p)) {
                assertEquals(0.0, analytic.getFirst().get(p).amaxNumber().doubleValue(), 0.0,
                        "frozen parameter " + p + " must get no gradient");
            }
        }
        for (int i = 0; i < in.length; i++) {
            INDArray flat = in[i].reshape(in[i].length());
            INDArray dFlat = analytic.getSecond()[i].reshape(in[i].length());
            long step = slow ? Math.max(1, flat.length() / 25) : 1;
            for (long j = 0; j < flat.length(); j += step) {
                double orig = flat.getDouble(j);
                flat.putScalar(j, orig + 1e-6);
                double plus = h.forward(in).mul(g).sumNumber().doubleValue();
                flat.putScalar(j, orig - 1e-6);
                double minus = h.forward(in).mul(g).sumNumber().doubleValue();
                flat.putScalar(j, orig);
                double numeric = (plus - minus) / 2e-6;
                double a = dFlat.getDouble(j);
                double rel = Math.abs(a - numeric) / Math.max(Math.abs(a) + Math.abs(numeric), 1e-8);
                assertTrue(rel < 1e-5 || Math.abs(a - numeric) < 1e-8,
                        c + " input " + i + " entry " + j + ": analytic " + a + " vs numeric " + numeric);
            }
        }
    }
}
