package org.sa2vp.layers;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every layer, both runtimes, against fixtures from the independent PyTorch reference
 * ({@code tools/reference}): outputs, input gradients and trainable-parameter gradients of
 * {@code Σ out ⊙ grad_output}. Tolerance 1e-5 in float64 and 1e-4 (relative to the reference's scale) in
 * float32.
 */
class ParityTest {

    static Stream<Arguments> cases() {
        List<Arguments> args = new ArrayList<>();
        String[] fixtures = {"ca_local_cls_c3", "ca_local_nocls_c5", "ca_local_scaled_cls", "ca_local_scaled_down",
                "ca_global_cls", "adapter_gelu", "adapter_relu", "fusion", "vertex_i2p_deep", "vertex_p2i",
                "vertex_p2i_deep_nocls"};
        for (String f : fixtures) {
            for (Implementation impl : Implementation.values()) {
                for (DataType dt : new DataType[]{DataType.DOUBLE, DataType.FLOAT}) {
                    args.add(Arguments.of(f, impl, dt));
                }
            }
        }
        return args.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void matchesPyTorchReference(String name, Implementation impl, DataType dataType) {
        Fixture f = Fixture.load(name);
        Setup s = setup(f, impl, dataType);
        double tolerance = dataType == DataType.DOUBLE ? 1e-5 : 1e-4;

        INDArray[] inputs = new INDArray[s.inputNames.length];
        for (int i = 0; i < inputs.length; i++) {
            inputs[i] = f.get(s.inputNames[i], dataType);
        }
        INDArray out = s.harness.forward(inputs);
        assertClose(name + " output", out, f.get("output", dataType), tolerance);

        Pair<Map<String, INDArray>, INDArray[]> grads = s.harness.backward(f.get("grad_output", dataType), inputs);
        for (int i = 0; i < inputs.length; i++) {
            assertClose(name + " grad_" + s.inputNames[i], grads.getSecond()[i],
                    f.get("grad_" + s.inputNames[i], dataType), tolerance);
        }
        int checkedParams = 0;
        for (Map.Entry<String, String[]> e : s.names.entrySet()) {
            String torchGrad = "grad_" + e.getValue()[0];
            if (!f.has(torchGrad) || !grads.getFirst().containsKey(e.getKey())) {
                continue;
            }
            INDArray expected = f.get(torchGrad, dataType);
            if (e.getValue()[1].equals("T")) {
                expected = expected.transpose();
            }
            INDArray actual = grads.getFirst().get(e.getKey());
            assertClose(name + " grad " + e.getKey(), actual, expected.reshape(actual.shape()), tolerance);
            checkedParams++;
        }
        if (!name.startsWith("ca_")) {
            assertTrue(checkedParams > 0, "no trainable parameter gradient compared for " + name);
        }
    }

    static void assertClose(String what, INDArray actual, INDArray expected, double tolerance) {
        double err = Harness.relDiff(actual, expected);
        assertTrue(err <= tolerance, what + ": relative max error " + err + " > " + tolerance);
    }

    record Setup(Harness harness, String[] inputNames, Map<String, String[]> names) {
    }

    static Setup setup(Fixture f, Implementation impl, DataType dataType) {
        int d = f.integer("hiddenSize");
        Harness h;
        String[] inputs;
        Map<String, String[]> names;
        if (f.name.startsWith("ca_")) {
            SpatiallyAlignedCrossAttention ca = LayerCases.crossAttention(f, impl, true);
            h = Harness.of(ca, dataType, null, d, ca.getQueryGrid().tokens(ca.isClassToken()),
                    ca.effectiveKeyGrid().tokens(ca.isClassToken()));
            inputs = new String[]{"query", "key_value"};
            names = TorchNames.CROSS_ATTENTION;
        } else if (f.name.startsWith("adapter")) {
            h = Harness.of(LayerCases.adapter(f, impl), dataType, null, d, f.get("input", dataType).size(1));
            inputs = new String[]{"input"};
            names = TorchNames.ADAPTER;
        } else if (f.name.startsWith("fusion")) {
            long t = f.get("stream", dataType).size(1);
            h = Harness.of(LayerCases.fusion(f, impl), dataType, null, d, t, t);
            inputs = new String[]{"stream", "prompt"};
            names = TorchNames.FUSION;
        } else {
            DualPathwayVertex v = LayerCases.dualPathway(f, impl, true);
            h = Harness.of(v, dataType, null, d, v.imageTokens() + v.promptTokens());
            inputs = new String[]{"input"};
            names = TorchNames.DUAL_PATHWAY;
        }
        h.load(f, names, dataType);
        return new Setup(h, inputs, names);
    }
}
