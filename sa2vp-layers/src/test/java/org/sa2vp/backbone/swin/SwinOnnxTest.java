package org.sa2vp.backbone.swin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.TestArrays;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.Backbones;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.backbone.vit.VitFamily;
import org.sa2vp.backbone.vit.VitFixtures;
import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.backbone.weights.NpzReader;
import org.sa2vp.backbone.weights.OnnxModel;
import org.sa2vp.backbone.weights.OnnxTensor;
import org.sa2vp.backbone.weights.OnnxWeights;
import org.sa2vp.backbone.weights.StateDict;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Swin Transformers exported to ONNX by torch 1.13 ({@code tools/reference/swin/make_swin_onnx_fixtures.py}: a tiny
 * random torchvision Swin, depths [2, 1], as torchvision exports it at opset 14, shift masks computed in the graph,
 * with timm's parameter names and block forward at opset 17, shift masks as constants, and with Microsoft's names at
 * opset 14, shift masks as buffers): they load through {@code Backbones.read} and {@code Backbones.fromOnnx} and
 * reproduce torch's logits; the Swin and ViT families each claim only their own exports; broken files fail in one
 * line.
 */
class SwinOnnxTest {

    private static final double TOLERANCE = 1e-4;
    private static final CheckpointOptions AT_40 = CheckpointOptions.defaults().withImageSize(SwinFixtures.IMAGE);
    private static final String TORCHVISION = "torchvision_opset14.onnx";
    private static final String TIMM = "timm_opset17.onnx";
    private static final String MICROSOFT = "microsoft_opset14.onnx";

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {TORCHVISION, TIMM, MICROSOFT})
    void theExportReproducesTorchsLogits(String file) {
        SwinCheckpoint checkpoint = assertInstanceOf(SwinCheckpoint.class,
                Backbones.read(SwinFixtures.file(file), CheckpointOptions.defaults()));
        SwinTransformerConfig c = checkpoint.config();
        assertEquals(List.of(2, 1), c.getDepths());
        assertEquals(List.of(1, 2), c.getNumHeads());
        assertEquals(4, c.getEmbedDim());
        assertEquals(4, c.getWindowSize());
        assertEquals(4, c.getPatchSize());
        assertEquals(4.0, c.getMlpRatio());
        assertEquals(10, c.getNumClasses());
        assertEquals(SwinFixtures.IMAGE, c.getImageHeight());

        StateDict reference = NpzReader.readNpz(SwinFixtures.file("onnx_reference.npz"));
        INDArray logits = SwinTransformer.logits(checkpoint.toGraph(), SwinFixtures.input());
        double abs = TestArrays.maxAbsDiff(logits, reference.get("logits"));
        System.out.printf("%s: max|Δ| logits %.2e (relative %.2e)%n", file, abs,
                TestArrays.maxRelDiff(logits, reference.get("logits")));
        assertTrue(abs <= TOLERANCE, file + " logits max|Δ| " + abs);

        BackboneCheckpoint attached = Backbones.fromOnnx(OnnxModel.read(SwinFixtures.file(file)),
                CheckpointOptions.defaults());
        assertEquals(c, attached.config());
        for (String key : checkpoint.weights().keys()) {
            assertEquals(checkpoint.weights().get(key), attached.weights().get(key), key);
        }
    }

    /**
     * The image size is the one the export declares for its input ({@code [batch, 3, 40, 40]}, batch symbolic), which
     * the state-dict route would need as an option (window 4 has no standard size); an option overrides it.
     */
    @Test
    void theImageSizeIsTheOneTheExportDeclares() {
        OnnxModel model = OnnxModel.read(SwinFixtures.file(TORCHVISION));
        assertEquals(List.of("input"), model.graph().inputs());
        assertArrayEquals(new long[]{-1, 3, 40, 40}, model.graph().inputShapes().get("input"));
        SwinTransformerConfig declared = SwinCheckpoint.read(SwinFixtures.file(TORCHVISION),
                CheckpointOptions.defaults()).config();
        assertEquals(40, declared.getImageHeight());
        assertEquals(40, declared.getImageWidth());
        SwinTransformerConfig overridden = SwinCheckpoint.read(SwinFixtures.file(TORCHVISION),
                CheckpointOptions.defaults().withImageSize(48)).config();
        assertEquals(48, overridden.getImageHeight());
        assertEquals(48, overridden.getImageWidth());
    }

    /** The three exports hold the same weights, so they must give the same timm tensors, bias tables included. */
    @Test
    void everyNamingsExportGivesTheSameTensors() {
        StateDict timm = SwinCheckpoint.read(SwinFixtures.file(TIMM), AT_40).weights();
        for (String other : List.of(TORCHVISION, MICROSOFT)) {
            StateDict weights = SwinCheckpoint.read(SwinFixtures.file(other), AT_40).weights();
            assertEquals(timm.keys().stream().sorted().toList(), weights.keys().stream().sorted().toList(), other);
            for (String key : timm.keys()) {
                assertEquals(timm.get(key), weights.get(key), other + " " + key);
            }
        }
        INDArray table = timm.get("layers.1.blocks.0.attn.relative_position_bias_table");
        assertArrayEquals(new long[]{49, 2}, table.shape());
        OnnxWeights recovered = OnnxWeights.of(OnnxModel.read(SwinFixtures.file(TIMM)),
                List.of(SwinOnnxReader.RELATIVE_POSITION_BIAS));
        assertEquals("onnx::Add_1018 [1, 2, 16, 16] gathered by the relative position index of window 4, table "
                        + "[49, 2] recovered (read by Add '/layers/layers.1/blocks/blocks.0/attn/Add')",
                recovered.origins().get("layers.1.blocks.0.attn.relative_position_bias_table"));
    }

    /** Microsoft's persistent shift mask is folded into an initializer that is no parameter: left out, by name. */
    @Test
    void aFoldedShiftMaskIsLeftOut() {
        OnnxModel model = OnnxModel.read(SwinFixtures.file(MICROSOFT));
        assertEquals("microsoft_opset14.onnx: cannot recover PyTorch names for 1 anonymous initializer(s): "
                        + "onnx::Add_1071 [1, 9, 1, 16, 16] (input 1 of Add "
                        + "'/layers/layers.0/blocks/blocks.1/attn/Add_1'); expected Linear weights (MatMul/Gemm followed by a named '...bias' initializer, or inside a "
                        + "named module scope)",
                assertThrows(CheckpointException.class, () -> OnnxWeights.of(model,
                        List.of(SwinOnnxReader.RELATIVE_POSITION_BIAS))).getMessage());
        OnnxWeights weights = OnnxWeights.of(model, List.of(SwinOnnxReader.RELATIVE_POSITION_BIAS,
                SwinOnnxReader.SHIFT_MASK));
        assertTrue(weights.stateDict().keys().stream().noneMatch(k -> k.contains("mask")));
    }

    @Test
    void eachFamilyClaimsOnlyItsOwnExports() {
        for (String file : List.of(TORCHVISION, TIMM, MICROSOFT)) {
            assertTrue(new SwinFamily().recognises(SwinFixtures.file(file)), file);
            assertFalse(new VitFamily().recognises(SwinFixtures.file(file)), file);
        }
        for (String file : List.of("torchvision_opset13.onnx", "torchvision_opset17.onnx", "timm_opset14.onnx",
                "hf_opset17.onnx", "torchvision_softmax_opset13.onnx")) {
            assertFalse(new SwinFamily().recognises(VitFixtures.file(file)), file);
            assertTrue(new VitFamily().recognises(VitFixtures.file(file)), file);
            assertInstanceOf(VitCheckpoint.class, Backbones.read(VitFixtures.file(file), CheckpointOptions.defaults()));
        }
    }

    @Test
    void eachFamilysReaderRefusesTheOtherFamilysExportInOneLine() {
        OnnxModel vit = OnnxModel.read(VitFixtures.file("timm_opset14.onnx"));
        assertEquals("timm_opset14.onnx: not a Swin checkpoint in a known naming (timm, Microsoft, torchvision, "
                        + "Hugging Face); first keys: [cls_token, pos_embed, patch_embed.proj.weight, "
                        + "patch_embed.proj.bias, blocks.0.norm1.weight]",
                assertThrows(CheckpointException.class, () -> new SwinFamily().fromOnnx(vit, AT_40)).getMessage());
        OnnxModel swin = OnnxModel.read(SwinFixtures.file(TIMM));
        String refusal = assertThrows(CheckpointException.class,
                () -> new VitFamily().fromOnnx(swin, CheckpointOptions.defaults())).getMessage();
        assertEquals("timm_opset17.onnx: not a ViT checkpoint in a known naming (timm, Google, Hugging Face, "
                + "torchvision); first keys: [patch_embed.proj.weight, patch_embed.proj.bias, patch_embed.norm.weight, "
                + "patch_embed.norm.bias, layers.0.blocks.0.norm1.weight]", refusal);
    }

    @Test
    void aTruncatedExportFailsAsTheViTLoadersDo(@TempDir Path dir) throws IOException {
        byte[] whole = Files.readAllBytes(SwinFixtures.file(TORCHVISION));
        Path cut = Files.write(dir.resolve("swin.onnx"), Arrays.copyOf(whole, whole.length * 6 / 10));
        String expected = assertThrows(CheckpointException.class, () -> OnnxModel.read(cut)).getMessage();
        assertTrue(expected.startsWith("swin.onnx: truncated protobuf at byte ")
                && expected.endsWith("(file is " + whole.length * 6 / 10 + " bytes); expected a complete ONNX "
                + "ModelProto") && !expected.contains("\n"), expected);
        assertEquals(expected, assertThrows(CheckpointException.class,
                () -> Backbones.read(cut, AT_40)).getMessage());
        assertEquals(expected, assertThrows(CheckpointException.class,
                () -> SwinCheckpoint.read(cut, AT_40)).getMessage());
    }

    /**
     * One value of a folded relative position bias changed in the file: the entries for the same query-key offset no
     * longer agree, so no bias table gives them.
     */
    @Test
    void aFoldedBiasNoTableGivesIsRefusedNamingItsNode(@TempDir Path dir) throws IOException {
        byte[] bytes = Files.readAllBytes(SwinFixtures.file(TIMM));
        OnnxTensor bias = OnnxModel.read(SwinFixtures.file(TIMM)).graph().initializers().values().stream()
                .filter(t -> t.name().startsWith("onnx::") && t.rank() == 4).findFirst().orElseThrow();
        float[] values = bias.toFloatArray().data().asFloat();
        ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            raw.putFloat(v);
        }
        int at = indexOf(bytes, raw.array());
        assertTrue(at > 0, "raw data of " + bias.name() + " not found");
        // value (query 1, key 0) of head 0: offset (0, 1), which (query 2, key 1) shares
        ByteBuffer.wrap(bytes, at + 4 * 16, 4).order(ByteOrder.LITTLE_ENDIAN).putFloat(values[16] + 1f);
        Path file = Files.write(dir.resolve("tampered.onnx"), bytes);
        assertEquals(values[16], values[2 * 16 + 1]);
        assertEquals("tampered.onnx: " + bias.name() + " [1, 1, 16, 16] (read by Add "
                        + "'/layers/layers.0/blocks/blocks.0/attn/Add') is no relative position bias of window 4: "
                        + "head 0 has " + (values[16] + 1f) + " and " + values[33] + " for the same query-key offset "
                        + "(table row 25)",
                assertThrows(CheckpointException.class, () -> Backbones.read(file, AT_40)).getMessage());
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
