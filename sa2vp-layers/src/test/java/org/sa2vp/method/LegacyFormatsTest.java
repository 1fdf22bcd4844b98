package org.sa2vp.method;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.node.ObjectNode;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.weights.NpzReader;
import org.sa2vp.baseline.HeadTuningConfig;
import org.sa2vp.baseline.VptConfig;
import org.sa2vp.config.ConfigSupport;
import org.sa2vp.data.InMemoryImages;
import org.sa2vp.layers.runtime.AdapterActivation;
import org.sa2vp.model.AdapterFile;
import org.sa2vp.model.Sa2vpConfig;
import org.sa2vp.train.EpochRecord;
import org.sa2vp.train.ProgressBar;
import org.sa2vp.train.Trainer;
import org.sa2vp.train.TrainingState;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Files written by the version before the method and backbone registries (commit b194dba, by the scripts in
 * {@code tools/reference/legacy}) still load and behave the same: method configurations with {@code "method"}
 * ids and without one, and three unfinished training runs (SA2VP, VPT-deep, linear probe: {@code state.json},
 * {@code last.zip} with the DL4J layer classes of that version, the trained-tensor file) that resume and finish with
 * the numbers the old version reached ({@code training-runs/expected-after-resume.csv}).
 */
class LegacyFormatsTest {

    private static final Path LEGACY = Path.of("src", "test", "resources", "fixtures", "legacy");
    /** The bundled tiny ViT's architecture, as the fixtures were written on it (no head). */
    private static final VisionTransformerConfig FASHION = VisionTransformerConfig.builder()
            .name("vit_tiny_patch4_32_fashion").inChannels(1).imageHeight(32).imageWidth(32).patchSize(4)
            .hiddenSize(96).depth(6).numHeads(3).mlpSize(384).build().validated();

    private static String read(String name) throws IOException {
        return Files.readString(LEGACY.resolve(name));
    }

    @Test
    void methodConfigurationsOfTheFirstFormatLoadAsTheSameMethods() throws IOException {
        Sa2vpConfig sa2vp = Sa2vpConfig.of(FASHION, 9);
        assertEquals(sa2vp, TuningMethods.fromJson(read("sa2vp.json")));
        assertEquals(sa2vp, TuningMethods.fromJson(read("sa2vp-untagged.json")), "no \"method\": SA2VP");
        assertEquals(sa2vp, Sa2vpConfig.fromJson(read("sa2vp-untagged.json")));
        assertEquals(sa2vp.withGamma(0.2).withWindowSize(5).withAdapterActivation(AdapterActivation.RELU)
                .withDeepPromptLayers(List.of()), TuningMethods.fromJson(read("sa2vp-ablation.json")));
        for (String name : List.of("linear-probe", "full-finetune", "vpt-deep", "vpt-shallow")) {
            TuningMethod loaded = TuningMethods.fromJson(read(name + ".json"));
            assertEquals(TuningMethods.create(name, FASHION, 9), loaded, name);
            assertEquals(name, loaded.methodName());
        }
        assertInstanceOf(HeadTuningConfig.class, TuningMethods.fromJson(read("linear-probe.json")));
        assertInstanceOf(VptConfig.class, TuningMethods.fromJson(read("vpt-deep.json")));
    }

    /** Today's JSON is the first format plus the backbone's {@code "family"} id, nothing else. */
    @Test
    void todaysJsonAddsOnlyTheBackboneFamily() throws IOException {
        for (String name : List.of("sa2vp", "sa2vp-ablation", "linear-probe", "full-finetune", "vpt-deep",
                "vpt-shallow")) {
            ObjectNode old = (ObjectNode) ConfigSupport.mapper().readTree(read(name + ".json"));
            JsonNode now = ConfigSupport.mapper().readTree(TuningMethods.fromJson(old.toString()).toJson());
            ObjectNode expected = old.deepCopy();
            ObjectNode backbone = ConfigSupport.mapper().createObjectNode().put("family", "vit");
            backbone.setAll((ObjectNode) old.get("backbone"));
            expected.set("backbone", backbone);
            assertEquals(expected, now, name);
        }
    }

    @Test
    void runsOfTheFirstFormatResumeToTheNumbersTheOldVersionReached(@TempDir Path dir) throws IOException {
        INDArray images = NpzReader.readNpz(LEGACY.resolve("training-runs/images.npz")).get("images");
        int[] labels = new int[12];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = i % 3;
        }
        InMemoryImages data = new InMemoryImages(images, labels, 3);
        List<String> expected;
        try (Stream<String> lines = Files.lines(LEGACY.resolve("training-runs/expected-after-resume.csv"))) {
            expected = lines.toList();
        }
        assertEquals(3, expected.size());
        for (String row : expected) {
            String[] f = row.split(",");
            Path run = dir.resolve(f[0]);
            copy(LEGACY.resolve("training-runs").resolve(f[0]), run);
            TrainingState state = TrainingState.read(run.resolve(Trainer.STATE));
            assertEquals(f[0], state.getConfig().methodName());
            Trainer trainer = Trainer.resume(run, data, data)
                    .progress(new ProgressBar(new PrintStream(OutputStream.nullOutputStream()), false));
            assertTrue(trainer.fit().finished());
            EpochRecord second = trainer.history().get(1);
            double paramSum = trainer.graph().params().sumNumber().doubleValue();
            assertEquals(Double.parseDouble(f[1]), second.getTrainLoss(), 1e-6, f[0] + " train loss");
            assertEquals(Double.parseDouble(f[2]), second.getValLoss(), 1e-6, f[0] + " validation loss");
            assertEquals(Double.parseDouble(f[3]), second.getValAccuracy(), 0, f[0] + " validation accuracy");
            assertEquals(Double.parseDouble(f[4]), paramSum, 1e-4, f[0] + " sum of all parameters");

            // The old trained-tensor file loads into a graph of today's configuration.
            TuningMethod config = state.getConfig();
            ComputationGraph graph = Trainer.newGraph(config, state.getRecipe(), data.size());
            config.loadTrained(graph, LEGACY.resolve("training-runs").resolve(f[0]).resolve(Trainer.ADAPTER));
        }
        Path sa2vp = LEGACY.resolve("training-runs/sa2vp");
        AdapterFile.Contents adapter = AdapterFile.read(sa2vp.resolve(Trainer.ADAPTER));
        assertEquals(TrainingState.read(sa2vp.resolve(Trainer.STATE)).getConfig(), adapter.config());
    }

    private static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path file : files.toList()) {
                Files.copy(file, to.resolve(file.getFileName()));
            }
        }
    }
}
