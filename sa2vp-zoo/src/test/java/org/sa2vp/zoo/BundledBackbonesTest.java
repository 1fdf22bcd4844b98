package org.sa2vp.zoo;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.zoo.PretrainedType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.BackboneGraphs;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.data.FashionMnist;
import org.sa2vp.data.InMemoryImages;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every bundled backbone loads offline through DL4J's zoo API and through {@code zoo:NAME}, is the file
 * {@code docs/DATA.md} records, and is the trained Fashion-MNIST classifier {@code sa2vp pretrain} reported (on the
 * bundled {@link FashionMnistSample}).
 */
class BundledBackbonesTest {

    /** Test images checked here (the first of the 10,000; pretrain.json's accuracy is over all of them). */
    private static final int IMAGES = 2000;

    /**
     * Each bundled backbone with the accuracy it must reach on these images, a little under what was measured (a
     * broken load gives about 10 %): the ViT 1779 / 2000 = 0.8895 (87.95 % on all 10,000), the Swin
     * 1761 / 2000 = 0.8805 (88.06 % on all 10,000).
     */
    static Stream<Arguments> bundled() {
        return Stream.of(Arguments.of(new PretrainedTinyVit(), 0.87), Arguments.of(new PretrainedTinySwin(), 0.87));
    }

    @ParameterizedTest
    @MethodSource("bundled")
    void initPretrainedIsTheTrainedFashionMnistClassifier(FashionMnistBackbone<?> zoo, double minAccuracy) {
        ComputationGraph graph = (ComputationGraph) zoo.initPretrained();
        InMemoryImages test = FashionMnistSample.load(FashionMnist.Split.TEST).slice(0, IMAGES);
        INDArray logits = BackboneGraphs.logits(graph, FashionMnistBackbone.fashionMnistInput(test.images()),
                zoo.name());
        int[] labels = test.labels();
        int correct = 0;
        for (int i = 0; i < labels.length; i++) {
            if (logits.getRow(i).argMax().getInt(0) == labels[i]) {
                correct++;
            }
        }
        double accuracy = (double) correct / labels.length;
        System.out.printf("%s: %d/%d = %.4f on the first Fashion-MNIST test images%n", zoo.name(), correct,
                labels.length, accuracy);
        assertTrue(accuracy >= minAccuracy, "accuracy " + accuracy);
        assertEquals(zoo.classifier().headless(), ZooBackbones.checkpoint(zoo.name(), CheckpointOptions.defaults())
                .config().headless());
    }

    @ParameterizedTest
    @MethodSource("bundled")
    void theBundledFileIsTheOneRecordedWithItsChecksum(FashionMnistBackbone<?> zoo) throws IOException {
        Path file = zoo.extractWeights();
        try {
            assertEquals(zoo.weightsSha256(), FashionMnistBackbone.sha256(file));
            assertTrue(Files.size(file) < 8_000_000, "a few MB");
        } finally {
            Files.delete(file);
        }
        String dataDoc = Files.readString(Path.of("..", "docs", "DATA.md"));
        assertTrue(dataDoc.contains(zoo.weightsSha256()), "docs/DATA.md records the SHA-256");
    }

    @ParameterizedTest
    @MethodSource("bundled")
    void otherWeightsAndShapesAreRefusedClearly(FashionMnistBackbone<?> zoo) {
        assertTrue(zoo.pretrainedAvailable(PretrainedType.MNIST));
        UnsupportedOperationException other = assertThrows(UnsupportedOperationException.class,
                () -> zoo.initPretrained(PretrainedType.IMAGENET));
        assertEquals(zoo.name() + " has Fashion-MNIST weights only (PretrainedType.MNIST), not IMAGENET",
                other.getMessage());
        assertThrows(IllegalArgumentException.class, () -> zoo.setInputShape(new int[][]{{3, 224, 224}}));
        assertEquals(10, ((ComputationGraph) zoo.init()).getLayer(BackboneGraphs.HEAD).getParam("b").length());
    }
}
