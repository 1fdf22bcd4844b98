package org.sa2vp.zoo.benchmark;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.zoo.PretrainedType;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.layers.AttentionMode;
import org.sa2vp.model.Sa2vpConfig;
import org.sa2vp.train.Trainer;
import org.sa2vp.zoo.PretrainedTinyVit;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A benchmark's ready model as a DL4J {@code ZooModel}: SA2VP and every baseline of Tables 1-3 with the benchmark's
 * classes and settings; {@code initPretrained(file)} gives the network the command line trains (same logits), and
 * DL4J's download route fails in one line.
 */
class BenchmarkModelTest {

    private static final String ZOO_BACKBONE = "zoo:" + PretrainedTinyVit.NAME;
    private static final Benchmark LOCATION = Benchmarks.get("minivtab/digit_location");

    @Test
    void everyMethodIsAReadyGraphWithTheBenchmarksSettings() {
        INDArray images = Nd4j.rand(DataType.FLOAT, 2, 1, 32, 32).subi(0.5).muli(2);
        for (String method : List.of("sa2vp", "linear-probe", "full-finetune", "vpt-shallow", "vpt-deep")) {
            BenchmarkModel model = BenchmarkModel.builder(LOCATION, PretrainedTinyVit.CONFIG).method(method).build();
            assertEquals(BenchmarkRecipes.method(LOCATION, method, PretrainedTinyVit.CONFIG).toJson(),
                    model.config().toJson(), method);
            assertEquals(BenchmarkRecipes.recipe(LOCATION), model.recipe(), method);
            ComputationGraph pretrained = model.initPretrained(ZOO_BACKBONE);
            // What train --benchmark builds: the graph of the recipe, then the backbone loaded into it.
            ComputationGraph reference = Trainer.newGraph(model.config(), model.recipe(), 1000);
            model.config().loadBackbone(reference, PretrainedTinyVit.backbone());
            INDArray logits = pretrained.output(false, images)[0];
            assertArrayEquals(new long[]{2, 9}, logits.shape(), method);
            assertEquals(reference.output(false, images)[0], logits, method);
            assertNotEquals(model.init().output(false, images)[0], logits, method + ": init() has no backbone");
        }
    }

    @Test
    void ablationsAndTheDownloadRoute() {
        Sa2vpConfig global = (Sa2vpConfig) BenchmarkModel.builder(LOCATION, PretrainedTinyVit.CONFIG)
                .ablation(Ablation.NO_SPATIAL_ALIGNMENT).build().config();
        assertEquals(AttentionMode.GLOBAL, global.getAttentionMode());
        assertEquals("ablation no-prompt-adapter is a variant of SA2VP, not of linear-probe",
                assertThrows(IllegalArgumentException.class, () -> BenchmarkModel.builder(LOCATION,
                        PretrainedTinyVit.CONFIG).method("linear-probe").ablation(Ablation.NO_PROMPT_ADAPTER).build())
                        .getMessage());
        BenchmarkModel model = BenchmarkModel.builder("vtab-1k/dsprites-location", "vit_base_patch16_224").build();
        assertEquals(16, model.config().getNumClasses());
        assertEquals("no pretrained weights are downloaded for vtab-1k/dsprites-location sa2vp on "
                        + "vit_base_patch16_224: call initPretrained(\"your-backbone-file\") with a checkpoint you have "
                        + "(Google .npz, .safetensors, .pth, ONNX, Keras .h5; docs/BENCHMARKS-PAPER.md says where the "
                        + "paper's come from)",
                assertThrows(UnsupportedOperationException.class, () -> model.initPretrained(PretrainedType.IMAGENET))
                        .getMessage());
        assertThrows(IllegalArgumentException.class, () -> model.initPretrained("/nonexistent/vit.npz"));
    }
}
