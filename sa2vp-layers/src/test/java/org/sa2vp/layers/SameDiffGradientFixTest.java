package org.sa2vp.layers;

import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.layers.samediff.SameDiffGraphVertex;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.layers.runtime.SameDiffGradientFixVertex;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * DL4J 1.0.0-M2.1 returns 2× the gradient from every SameDiff vertex. This pins both facts: DL4J's stock
 * runtime gives exactly twice the PyTorch reference, and our SAMEDIFF runtime (with the fix) gives it exactly.
 * If the fix were removed, the second assertion (and ParityTest, GradientCheckTest) would fail; if a DL4J
 * upgrade fixed the bug, the first would, telling us to drop the workaround.
 */
class SameDiffGradientFixTest {

    @Test
    void stockRuntimeDoublesGradientsAndOursIsExact() {
        Fixture f = Fixture.load("vertex_i2p_deep");
        DataType dt = DataType.DOUBLE;
        ParityTest.Setup s = ParityTest.setup(f, Implementation.SAMEDIFF, dt);
        GraphVertex ours = s.harness().graph.getVertex("v");
        assertInstanceOf(SameDiffGradientFixVertex.class, ours);

        DualPathwayVertex conf = LayerCases.dualPathway(f, Implementation.SAMEDIFF, true);
        SameDiffGraphVertex stock = new SameDiffGraphVertex(conf, s.harness().graph, "stock", 99,
                s.harness().graph.params().get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                        org.nd4j.linalg.indexing.NDArrayIndex.interval(0, conf.numParams(true))),
                false, dt);
        stock.setBackpropGradientsViewArray(org.nd4j.linalg.factory.Nd4j.create(dt, 1, conf.numParams(true)));

        INDArray in = f.get("input", dt);
        INDArray g = f.get("grad_output", dt);
        stock.setInputs(new INDArray[]{in});
        stock.doForward(true, LayerWorkspaceMgr.noWorkspaces());
        stock.setEpsilon(g);
        Pair<Gradient, INDArray[]> stockGrads = stock.doBackward(false, LayerWorkspaceMgr.noWorkspaces());
        Pair<Map<String, INDArray>, INDArray[]> fixed = s.harness().backward(g, in);

        INDArray expectedInput = f.get("grad_input", dt);
        INDArray expectedScale = f.get("grad_deep.scale", dt).reshape(1, 16);
        assertEquals(2.0, ratio(stockGrads.getSecond()[0], expectedInput), 1e-9, "stock dL/dinput");
        assertEquals(2.0, ratio(stockGrads.getFirst().getGradientFor("deepScale"), expectedScale), 1e-9,
                "stock dL/ddeepScale");
        assertEquals(1.0, ratio(fixed.getSecond()[0], expectedInput), 1e-9, "fixed dL/dinput");
        assertEquals(1.0, ratio(fixed.getFirst().get("deepScale"), expectedScale), 1e-9, "fixed dL/ddeepScale");
    }

    /** Least-squares ratio ⟨a, b⟩ / ⟨b, b⟩. */
    private static double ratio(INDArray a, INDArray b) {
        INDArray bb = b.reshape(b.length());
        return a.reshape(a.length()).mul(bb).sumNumber().doubleValue() / bb.mul(bb).sumNumber().doubleValue();
    }
}
