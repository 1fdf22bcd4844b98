package org.sa2vp.backbone.weights.keras;

import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.modelimport.keras.Hdf5Archive;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.sa2vp.TestFixtures;
import org.sa2vp.TestGraphs;
import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.backbone.weights.StateDict;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sa2vp.TestArrays.maxAbsDiff;

/**
 * The Keras {@code .h5} ViT written by {@code tools/reference/keras} (pure-JS tfjs 4.22 → h5py), imported through
 * {@link KerasVisionTransformer}: parity with tfjs's outputs, a ModelSerializer round trip, the timm state dict,
 * and the one-line errors.
 */
class KerasVisionTransformerTest {

    private static final int DIM = 32;

    private static Path h5;
    private static Map<String, INDArray> reference;
    private static ComputationGraph graph;

    @TempDir
    Path dir;

    @BeforeAll
    static void importFixture() throws Exception {
        h5 = fixture("vit_tiny.h5");
        reference = Nd4j.createFromNpzFile(fixture("vit_tiny_reference.npz").toFile());
        graph = KerasVisionTransformer.importModel(h5);
    }

    private static Path fixture(String name) {
        return TestFixtures.file("keras", name, "tools/reference/keras/make_fixture.sh");
    }

    @Test
    void importedGraphMatchesTfjs() {
        Map<String, INDArray> activations = graph.feedForward(new INDArray[]{reference.get("input")}, false);
        double logits = maxAbsDiff(activations.get("head"), reference.get("logits"));
        double features = maxAbsDiff(activations.get(KerasVisionTransformer.EXTRACT_TOKEN_LAMBDA),
                reference.get("class_token_features"));
        double tokens = maxAbsDiff(activations.get("encoder_norm"), reference.get("encoder_norm_output"));
        System.out.printf("Keras ViT parity vs tfjs: max |Δ| logits %.3g, class-token features %.3g, "
                + "encoder_norm tokens %.3g (logits up to %.3g)%n", logits, features, tokens,
                reference.get("logits").amaxNumber().doubleValue());
        assertTrue(logits <= 1e-4, "logits differ by " + logits);
        assertTrue(features <= 1e-4, "class-token features differ by " + features);
        assertTrue(tokens <= 1e-4, "encoder_norm tokens differ by " + tokens);
        assertArrayEquals(new long[]{2, 10}, graph.outputSingle(reference.get("input")).shape());
    }

    @Test
    void modelSerializerRoundTripKeepsOutputs() throws Exception {
        TestGraphs.assertModelSerializerRoundTrip(graph, dir, "vit_tiny.zip", reference.get("input"));
    }

    @Test
    void stateDictHasTimmNamesAndPytorchLayouts() throws Exception {
        StateDict state = KerasVisionTransformer.toStateDict(h5);
        assertEquals("vit_tiny.h5", state.source());

        Map<String, long[]> expected = new LinkedHashMap<>();
        expected.put("patch_embed.proj.weight", new long[]{DIM, 3, 8, 8});
        expected.put("patch_embed.proj.bias", new long[]{DIM});
        expected.put("cls_token", new long[]{1, 1, DIM});
        expected.put("pos_embed", new long[]{1, 17, DIM});
        for (int block = 0; block < 2; block++) {
            String p = "blocks." + block + ".";
            expected.put(p + "norm1.weight", new long[]{DIM});
            expected.put(p + "norm1.bias", new long[]{DIM});
            expected.put(p + "attn.qkv.weight", new long[]{3 * DIM, DIM});
            expected.put(p + "attn.qkv.bias", new long[]{3 * DIM});
            expected.put(p + "attn.proj.weight", new long[]{DIM, DIM});
            expected.put(p + "attn.proj.bias", new long[]{DIM});
            expected.put(p + "norm2.weight", new long[]{DIM});
            expected.put(p + "norm2.bias", new long[]{DIM});
            expected.put(p + "mlp.fc1.weight", new long[]{64, DIM});
            expected.put(p + "mlp.fc1.bias", new long[]{64});
            expected.put(p + "mlp.fc2.weight", new long[]{DIM, 64});
            expected.put(p + "mlp.fc2.bias", new long[]{DIM});
        }
        expected.put("norm.weight", new long[]{DIM});
        expected.put("norm.bias", new long[]{DIM});
        expected.put("head.weight", new long[]{10, DIM});
        expected.put("head.bias", new long[]{10});
        assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(state.keys()));
        expected.forEach((key, shape) -> state.get(key, shape));

        // values against the Keras tensors read straight from the file
        String attention = "model_weights/encoderblock_1_attention/encoderblock_1_attention/";
        INDArray qkv = state.get("blocks.1.attn.qkv.weight");
        INDArray qkvBias = state.get("blocks.1.attn.qkv.bias");
        try (Hdf5Archive archive = new Hdf5Archive(h5.toString())) {
            String[] parts = {"query", "key", "value"};
            for (int i = 0; i < 3; i++) {
                INDArray kernel = archive.readDataSet("kernel:0", attention + parts[i]);   // [D, H, dk]
                INDArray bias = archive.readDataSet("bias:0", attention + parts[i]);       // [H, dk]
                INDArray rows = qkv.get(NDArrayIndex.interval(i * DIM, (i + 1) * DIM), NDArrayIndex.all());
                assertEquals(kernel.reshape('c', DIM, DIM).transpose(), rows, parts[i] + " rows of qkv.weight");
                assertEquals(bias.reshape(DIM), qkvBias.get(NDArrayIndex.interval(i * DIM, (i + 1) * DIM)),
                        parts[i] + " part of qkv.bias");
            }
            INDArray outputKernel = archive.readDataSet("kernel:0", attention + "attention_output");  // [H, dv, D]
            assertEquals(outputKernel.reshape('c', DIM, DIM).transpose(), state.get("blocks.1.attn.proj.weight"));
            INDArray patchKernel = archive.readDataSet("kernel:0", "model_weights/embedding/embedding");  // HWIO
            assertEquals(patchKernel.getDouble(5, 6, 2, 17), state.get("patch_embed.proj.weight")
                    .getDouble(17, 2, 5, 6), 0.0, "HWIO [5,6,2,17] is OIHW [17,2,5,6]");
            INDArray fc1 = archive.readDataSet("kernel:0",
                    "model_weights/encoderblock_0_mlp_dense1/encoderblock_0_mlp_dense1");   // [in, out]
            assertEquals(fc1.transpose(), state.get("blocks.0.mlp.fc1.weight"));
        }

        // and against the imported DL4J graph (x·W layouts)
        assertEquals(graph.getParam("encoderblock_1_attention_valueW"),
                qkv.get(NDArrayIndex.interval(2 * DIM, 3 * DIM), NDArrayIndex.all()).transpose());
        assertEquals(graph.getParam("embedding_W"), state.get("patch_embed.proj.weight"));
        assertEquals(graph.getParam("head_W"), state.get("head.weight").transpose());
        assertEquals(graph.getParam("Transformer/posembed_input_positionEmbedding"),
                state.get("pos_embed").reshape(17, DIM));
        assertEquals(graph.getParam("class_token_classToken"), state.get("cls_token").reshape(1, DIM));
    }

    @Test
    void unsupportedLayerIsAOneLineErrorNamingFileAndLayer() throws Exception {
        Path file = fixture("vit_tiny_unsupported_layer.h5");
        for (Runnable load : new Runnable[]{() -> KerasVisionTransformer.importModel(file),
                () -> KerasVisionTransformer.toStateDict(file)}) {
            CheckpointException e = assertThrows(CheckpointException.class, load::run);
            assertOneLine(e.getMessage(), "vit_tiny_unsupported_layer.h5: ", "'encoderblock_0_add2'",
                    "StochasticDepth");
        }
    }

    @Test
    void truncatedFileIsAOneLineErrorNamingTheFile() throws Exception {
        byte[] bytes = Files.readAllBytes(h5);
        Path truncated = dir.resolve("vit_tiny_truncated.h5");
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        for (Runnable load : new Runnable[]{() -> KerasVisionTransformer.importModel(truncated),
                () -> KerasVisionTransformer.toStateDict(truncated)}) {
            CheckpointException e = assertThrows(CheckpointException.class, load::run);
            assertOneLine(e.getMessage(), "vit_tiny_truncated.h5: not a readable HDF5 file, truncated or corrupt");
        }
        CheckpointException missing = assertThrows(CheckpointException.class,
                () -> KerasVisionTransformer.importModel(dir.resolve("absent.h5")));
        assertOneLine(missing.getMessage(), "absent.h5: not a readable file");
    }

    private static void assertOneLine(String message, String start, String... contains) {
        assertTrue(message.startsWith(start), "message should start with '" + start + "': " + message);
        assertFalse(message.contains("\n") || message.contains("\r"), "message should be one line: " + message);
        for (String part : contains) {
            assertTrue(message.contains(part), "message should name " + part + ": " + message);
        }
    }

    /** A Keras layer config as DL4J's KerasModel hands it to a layer (with the Keras major version added). */
    private static Map<String, Object> attentionConfig(List<Object> inboundNode) {
        Map<String, Object> config = new HashMap<>(Map.of("name", "mha", "num_heads", 2, "key_dim", 16,
                "trainable", true));
        return new HashMap<>(Map.of("class_name", "MultiHeadAttention", "name", "mha", "config", config,
                "inbound_nodes", List.of(inboundNode), "keras_version", 2));
    }

    @Test
    void multiHeadAttentionTakesOneInputAndRejectsCrossAttention() throws Exception {
        // tfjs / mha([x, x]): two entries from the same layer → one DL4J input
        KerasMultiHeadAttention twoEntries = new KerasMultiHeadAttention(attentionConfig(
                List.of(List.of("ln", 0, 0, Map.of()), List.of("ln", 0, 0, Map.of()))));
        assertEquals(List.of("ln"), twoEntries.getInboundLayerNames());
        // Python Keras mha(x, x): one entry, value in the call kwargs
        KerasMultiHeadAttention kwargs = new KerasMultiHeadAttention(attentionConfig(
                List.of(List.of("ln", 0, 0, Map.of("value", List.of("ln", 0, 0))))));
        assertEquals(List.of("ln"), kwargs.getInboundLayerNames());

        for (List<Object> cross : List.<List<Object>>of(
                List.of(List.of("q", 0, 0, Map.of()), List.of("kv", 0, 0, Map.of())),
                List.of(List.of("q", 0, 0, Map.of("value", List.of("kv", 0, 0)))))) {
            UnsupportedKerasConfigurationException e = assertThrows(UnsupportedKerasConfigurationException.class,
                    () -> new KerasMultiHeadAttention(attentionConfig(cross)));
            assertOneLine(e.getMessage(), "MultiHeadAttention 'mha': ", "[q, kv]", "self-attention");
        }
    }

    @Test
    void partialAttentionWeightsFromPlainKerasImportAreReported() throws Exception {
        KerasMultiHeadAttention attention = new KerasMultiHeadAttention(attentionConfig(
                List.of(List.of("ln", 0, 0, Map.of()), List.of("ln", 0, 0, Map.of()))));
        attention.getOutputType(InputType.recurrent(DIM, 17, RNNFormat.NWC));
        // what DL4J M2.1's HDF5 reader hands over: only the query's group
        attention.setWeights(Map.of("kernel", Nd4j.zeros(DIM, 2, 16), "bias", Nd4j.zeros(2, 16)));
        InvalidKerasConfigurationException e = assertThrows(InvalidKerasConfigurationException.class,
                () -> attention.copyWeightsToLayer(graph.getLayer("encoderblock_0_attention")));
        assertOneLine(e.getMessage(), "MultiHeadAttention 'mha': ", "KerasVisionTransformer.importModel");
    }

    @Test
    void setParamWritesIntoFastLayers() {
        ComputationGraph copy = graph.clone();
        INDArray gamma = Nd4j.linspace(1, DIM, DIM, DataType.FLOAT).reshape(1, DIM);
        copy.setParam("encoder_norm_gamma", gamma);
        assertEquals(gamma, copy.getParam("encoder_norm_gamma"), "DL4J M2.1 SameDiff runtimes dropped the value");
    }
}
