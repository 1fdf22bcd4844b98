package org.sa2vp.layers;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The classifier loss layer reports its true width and computes exactly what DL4J's plain LossLayer computes. */
class ClassifierLossTest {

    private static ComputationGraphConfiguration graph(Layer loss) {
        return new NeuralNetConfiguration.Builder().seed(7).dataType(DataType.DOUBLE).graphBuilder()
                .addInputs("in").setInputTypes(InputType.feedForward(4))
                .addLayer("logits", new DenseLayer.Builder().nOut(3).activation(Activation.IDENTITY).build(), "in")
                .addLayer("loss", loss, "logits").setOutputs("loss").build();
    }

    @Test
    void outputTypeIsTheClassCountNotZero() {
        ComputationGraphConfiguration conf = graph(ClassifierLoss.softmax(3, new LossMCXENT()));
        Map<String, InputType> types = conf.getLayerActivationTypes(InputType.feedForward(4));
        assertEquals(InputType.feedForward(3), types.get("loss"));
        assertEquals(conf, ComputationGraphConfiguration.fromJson(conf.toJson()), "JSON round trip");
    }

    @Test
    void scoreAndGradientsEqualThoseOfThePlainLossLayer() {
        ComputationGraph ours = new ComputationGraph(graph(ClassifierLoss.softmax(3, new LossMCXENT())));
        ComputationGraph plain = new ComputationGraph(graph(new LossLayer.Builder(LossFunctions.LossFunction.MCXENT)
                .activation(Activation.SOFTMAX).build()));
        ours.init();
        plain.init(ours.params().dup(), true);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 5, 4);
        INDArray y = Nd4j.eye(3).castTo(DataType.DOUBLE).getRows(0, 2, 1, 1, 0);
        for (ComputationGraph g : new ComputationGraph[]{ours, plain}) {
            g.setInputs(x);
            g.setLabels(y);
            g.computeGradientAndScore();
        }
        assertEquals(plain.score(), ours.score(), 0.0);
        assertEquals(plain.gradient().gradient(), ours.gradient().gradient());
    }

    @Test
    void refusesNoClasses() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ClassifierLoss.softmax(0, new LossMCXENT()));
        assertEquals("classes must be >= 1, got 0", e.getMessage());
    }
}
