package org.sa2vp.model;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.backbone.weights.SafetensorsReader;
import org.sa2vp.backbone.weights.StateDict;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link AdapterFile} round trip on the fixture backbone (Google .npz, 40×40, patch 8, width 32, depth 12, 2 heads):
 * random trainable tensors written under the authors' names, read back into a new graph built from the file's
 * configuration and the same backbone: identical tensors and logits. Mismatched configurations and backbones fail.
 */
class AdapterFileTest {

    static Path fixture(String dir, String name) {
        try {
            return Path.of(AdapterFileTest.class.getResource("/fixtures/" + dir + "/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Random values for every trainable tensor, so that nothing equals the initialisation. */
    private static StateDict randomTensors(Sa2vpConfig config, long seed) {
        Nd4j.getRandom().setSeed(seed);
        Map<String, INDArray> out = new LinkedHashMap<>();
        AuthorsNames.shapes(config).forEach((name, shape) -> out.put(name, Nd4j.randn(DataType.FLOAT, shape)));
        return new StateDict("random", out);
    }

    @Test
    void roundTripReproducesTensorsAndLogits(@TempDir Path dir) throws Exception {
        VitCheckpoint backbone = VitCheckpoint.read(fixture("sa2vp", "backbone_google.npz"),
                VitCheckpoint.Options.defaults());
        Sa2vpConfig config = Sa2vpConfig.builder().backbone(backbone.config()).numClasses(5).promptRank(4)
                .adapterSize(8).gamma(0.5).dropout(0.1).build().validated();
        ComputationGraph trained = Sa2vpModel.create(config);
        Sa2vpModel.loadBackbone(trained, config, backbone);
        AuthorsNames.load(trained, config, randomTensors(config, 5));

        Path file = dir.resolve("adapter.safetensors");
        AdapterFile.write(file, trained, config);
        assertEquals(config.toJson(), SafetensorsReader.metadata(file).get(AdapterFile.CONFIG_KEY));
        long values = AuthorsNames.trainableWithoutHead(config) + 33L * 5;
        System.out.printf("adapter file: %d tensors, %d values, %d bytes%n", AuthorsNames.shapes(config).size(),
                values, Files.size(file));
        assertTrue(Files.size(file) < 4 * values + 16_384, "only trainable tensors are stored");

        AdapterFile.Contents contents = AdapterFile.read(file);
        assertEquals(config, contents.config());
        Map<String, INDArray> expected = AuthorsNames.export(trained, config);
        assertEquals(expected.keySet(), contents.tensors().keys());
        for (Map.Entry<String, INDArray> e : expected.entrySet()) {
            assertArrayEquals(e.getValue().shape(), contents.tensors().get(e.getKey()).shape(), e.getKey());
            assertArrayEquals(e.getValue().data().asFloat(), contents.tensors().get(e.getKey()).data().asFloat(),
                    e.getKey());
        }

        INDArray images = Nd4j.randn(DataType.FLOAT, 3, 3, 40, 40);
        INDArray[] reference = Sa2vpModel.logits(trained, images);
        ComputationGraph restored = contents.graph(backbone);
        INDArray[] logits = Sa2vpModel.logits(restored, images);
        assertEquals(reference[0], logits[0]);
        assertEquals(reference[1], logits[1]);

        // Any graph with the same configuration (dropout aside) and backbone takes the file.
        Sa2vpConfig noDropout = config.withDropout(0.0);
        ComputationGraph other = Sa2vpModel.create(noDropout);
        Sa2vpModel.loadBackbone(other, noDropout, backbone);
        AdapterFile.load(file, other, noDropout);
        assertEquals(reference[0], Sa2vpModel.logits(other, images)[0]);

        Sa2vpConfig otherRank = config.withPromptRank(8);
        ComputationGraph wrong = Sa2vpModel.create(otherRank);
        CheckpointException e = assertThrows(CheckpointException.class, () -> AdapterFile.load(file, wrong,
                otherRank));
        assertTrue(e.getMessage().contains("trained for configuration"), e.getMessage());

        VitCheckpoint otherBackbone = VitCheckpoint.read(fixture("vit", "google.npz"), VitCheckpoint.Options.defaults());
        CheckpointException b = assertThrows(CheckpointException.class, () -> contents.graph(otherBackbone));
        assertTrue(b.getMessage().contains("differs from the one the adapter was trained on"), b.getMessage());
    }

    @Test
    void aFileWithoutConfigurationIsNotAnAdapter() {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> AdapterFile.read(fixture("sa2vp", "sa2vp_params.safetensors")));
        assertTrue(e.getMessage().contains("not an SA2VP adapter file"), e.getMessage());
    }
}
