package org.sa2vp.zoo;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.zoo.PretrainedType;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.vit.VisionTransformer;
import org.sa2vp.data.FashionMnist;
import org.sa2vp.data.InMemoryImages;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bundled backbone loads offline through DL4J's zoo API, is the file {@code docs/DATA.md} records, and is the
 * trained Fashion-MNIST classifier {@code sa2vp pretrain} reported (on the bundled {@link FashionMnistSample}).
 */
class PretrainedTinyVitTest {

    /** Test images checked here (the first of the 10,000; pretrain.json's accuracy is over all of them). */
    private static final int IMAGES = 2000;
    /** Measured on these images: 1779 / 2000 = 0.8895 (87.95 % on all 10,000); a broken load gives about 10 %. */
    private static final double MIN_ACCURACY = 0.87;

    @Test
    void initPretrainedIsTheTrainedFashionMnistClassifier() {
        ComputationGraph graph = (ComputationGraph) new PretrainedTinyVit().initPretrained();
        InMemoryImages test = FashionMnistSample.load(FashionMnist.Split.TEST).slice(0, IMAGES);
        INDArray logits = VisionTransformer.logits(graph, PretrainedTinyVit.fashionMnistInput(test.images()));
        int[] labels = test.labels();
        int correct = 0;
        for (int i = 0; i < labels.length; i++) {
            if (logits.getRow(i).argMax().getInt(0) == labels[i]) {
                correct++;
            }
        }
        double accuracy = (double) correct / labels.length;
        System.out.printf("bundled backbone: %d/%d = %.4f on the first Fashion-MNIST test images%n", correct,
                labels.length, accuracy);
        assertTrue(accuracy >= MIN_ACCURACY, "accuracy " + accuracy);
        assertEquals(PretrainedTinyVit.CONFIG.withNumClasses(0), PretrainedTinyVit.backbone().config()
                .withNumClasses(0).withName(PretrainedTinyVit.NAME));
    }

    @Test
    void theBundledFileIsTheOneRecordedWithItsChecksum() throws IOException {
        Path file = new PretrainedTinyVit().extractWeights();
        try {
            assertEquals(PretrainedTinyVit.WEIGHTS_SHA256, PretrainedTinyVit.sha256(file));
            assertTrue(Files.size(file) < 4_000_000, "a few MB");
        } finally {
            Files.delete(file);
        }
        String dataDoc = Files.readString(Path.of("..", "docs", "DATA.md"));
        assertTrue(dataDoc.contains(PretrainedTinyVit.WEIGHTS_SHA256), "docs/DATA.md records the SHA-256");
    }

    @Test
    void otherWeightsAndShapesAreRefusedClearly() {
        PretrainedTinyVit zoo = new PretrainedTinyVit();
        assertTrue(zoo.pretrainedAvailable(PretrainedType.MNIST));
        UnsupportedOperationException other = assertThrows(UnsupportedOperationException.class,
                () -> zoo.initPretrained(PretrainedType.IMAGENET));
        assertEquals(PretrainedTinyVit.NAME + " has Fashion-MNIST weights only (PretrainedType.MNIST), not IMAGENET",
                other.getMessage());
        assertThrows(IllegalArgumentException.class, () -> zoo.setInputShape(new int[][]{{3, 224, 224}}));
        assertEquals(10, ((ComputationGraph) zoo.init()).getLayer(VisionTransformer.HEAD).getParam("b").length());
    }
}
