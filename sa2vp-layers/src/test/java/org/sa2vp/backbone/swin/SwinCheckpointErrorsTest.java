package org.sa2vp.backbone.swin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.backbone.vit.VitFamily;
import org.sa2vp.backbone.vit.VitFixtures;
import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.backbone.weights.CheckpointKeys;
import org.sa2vp.backbone.weights.SafetensorsReader;
import org.sa2vp.backbone.weights.StateDict;
import org.sa2vp.backbone.weights.SwinNaming;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How Swin checkpoints are recognised (the naming of each fixture, which family claims which file) and the one-line
 * errors of files that cannot be read as they are.
 */
class SwinCheckpointErrorsTest {

    private static final CheckpointOptions AT_40 = CheckpointOptions.defaults().withImageSize(SwinFixtures.IMAGE);

    @ParameterizedTest(name = "{0}")
    @CsvSource({"torchvision.safetensors, TORCHVISION", "timm.safetensors, TIMM", "microsoft.npz, MICROSOFT",
            "hf.safetensors, HUGGING_FACE", "hf_swinmodel.npz, HUGGING_FACE"})
    void theNamingIsDetectedFromTheKeysAndOnlyTheSwinFamilyClaimsTheFile(String file, SwinNaming naming) {
        Path path = SwinFixtures.file(file);
        assertEquals(Optional.of(naming), CheckpointKeys.of(path).flatMap(SwinNaming::find));
        assertTrue(new SwinFamily().recognises(path));
        assertTrue(!new VitFamily().recognises(path), "the ViT family claims " + file);
    }

    @Test
    void theSwinFamilyLeavesViTFilesAlone() {
        for (String file : new String[]{"timm.safetensors", "google.npz", "hf.safetensors",
                "torchvision_opset13.onnx"}) {
            assertTrue(!new SwinFamily().recognises(VitFixtures.file(file)), file);
            assertTrue(new VitFamily().recognises(VitFixtures.file(file)), file);
        }
    }

    @Test
    void unknownNamingsAndFormats(@TempDir Path dir) throws IOException {
        StateDict resnet = new StateDict("resnet.npz", Map.of("conv1.weight", Nd4j.ones(2, 2)));
        assertEquals("resnet.npz: not a Swin checkpoint in a known naming (timm, Microsoft, torchvision, Hugging "
                + "Face); first keys: [conv1.weight]", message(() -> SwinCheckpoint.of(resnet, AT_40)));
        Path onnx = Files.write(dir.resolve("swin.onnx"), new byte[]{0x08, 0x07, 0x12, 0x00});
        assertEquals("swin.onnx: not an ONNX model: no graph (ModelProto field 7); expected an ONNX ModelProto "
                + "(.onnx file)", message(() -> SwinCheckpoint.read(onnx, AT_40)));
        assertEquals(message(() -> VitCheckpoint.read(onnx, VitCheckpoint.Options.defaults())),
                message(() -> SwinCheckpoint.read(onnx, AT_40)));
        Path h5 = Files.write(dir.resolve("swin.h5"), new byte[]{(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'});
        assertEquals("swin.h5: not a readable HDF5 file, truncated or corrupt (H5Fopen failed)",
                message(() -> SwinCheckpoint.read(h5, AT_40)));
        assertEquals(message(() -> VitCheckpoint.read(h5, VitCheckpoint.Options.defaults())),
                message(() -> SwinCheckpoint.read(h5, AT_40)));
        VitCheckpoint vit = VitCheckpoint.read(VitFixtures.file("timm.safetensors"),
                VitCheckpoint.Options.defaults().withNumHeads(VitFixtures.HEADS));
        assertEquals(vit.source() + ": a vit checkpoint, where a Swin Transformer (family 'swin') is needed",
                assertThrows(IllegalArgumentException.class, () -> SwinCheckpoint.of(vit)).getMessage());
    }

    @Test
    void whatTheFileDoesNotStoreComesFromTheOptionsAndMustAgreeWithIt() {
        Path file = SwinFixtures.file("timm.safetensors");
        assertEquals(file + ": a Swin checkpoint does not store its image size and window 4 is not a standard one "
                + "(7: 224, 12: 384); pass --image-size S", message(() -> SwinCheckpoint.read(file,
                CheckpointOptions.defaults())));
        assertEquals(file + ": --heads 2 contradicts the checkpoint, whose relative position bias tables give 1 "
                + "heads in the first stage", message(() -> SwinCheckpoint.read(file, AT_40.withNumHeads(2))));
        assertEquals(file + ": SwinTransformerConfig '" + file + "': imageHeight must be a positive multiple of "
                + "patchSize 4, got 42", message(() -> SwinCheckpoint.read(file, AT_40.withImageSize(42))));
        assertEquals(36, SwinCheckpoint.read(file, AT_40.withImageSize(36).withNumHeads(1)).config()
                .getImageWidth());
    }

    @Test
    void missingUnexpectedAndMisshapenKeysAreNamedAsTheFileNamesThem() {
        Map<String, INDArray> torchvision = tensors("torchvision.safetensors");
        torchvision.remove("features.3.1.attn.proj.bias");
        assertEquals("torchvision: missing key 'features.3.1.attn.proj.bias' (torchvision Swin state dict)",
                message(() -> SwinCheckpoint.of(new StateDict("torchvision", torchvision), AT_40)));

        Map<String, INDArray> hf = tensors("hf.safetensors");
        hf.put("swin.pooler.dense.weight", Nd4j.ones(2, 2));
        assertEquals("hf: unexpected keys for a Hugging Face Swin state dict: [swin.pooler.dense.weight] (not part "
                + "of the architecture; load non-strictly to ignore them)",
                message(() -> SwinCheckpoint.of(new StateDict("hf", hf), AT_40)));
        assertEquals(10, SwinCheckpoint.of(new StateDict("hf", hf), AT_40.withStrict(false)).config()
                .getNumClasses());

        Map<String, INDArray> microsoft = tensors("microsoft.npz");
        microsoft.put("layers.1.blocks.1.attn.relative_position_bias_table", Nd4j.ones(25, 2));
        assertEquals("microsoft: key 'layers.1.blocks.1.attn.relative_position_bias_table' has shape [25, 2], "
                + "expected [49, 2]", message(() -> SwinCheckpoint.of(new StateDict("microsoft", microsoft), AT_40)
                .toGraph()));
        microsoft.put("layers.1.blocks.0.attn.relative_position_bias_table", Nd4j.ones(25, 2));
        assertEquals("microsoft: 'layers.1.blocks.0.attn.relative_position_bias_table' has 25 rows, where a window 4 "
                + "shared by all stages has (2w-1)^2", message(() -> SwinCheckpoint.of(new StateDict("microsoft",
                microsoft), AT_40)));
    }

    private static Map<String, INDArray> tensors(String fixture) {
        Path file = SwinFixtures.file(fixture);
        StateDict dict = fixture.endsWith(".npz") ? org.sa2vp.backbone.weights.NpzReader.readNpz(file)
                : SafetensorsReader.read(file);
        return new LinkedHashMap<>(dict.tensors());
    }

    private static String message(Runnable action) {
        return assertThrows(CheckpointException.class, action::run).getMessage();
    }
}
