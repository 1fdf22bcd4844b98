package org.sa2vp.backbone.weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.backbone.vit.VitCheckpoint;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Odd-but-valid files read correctly, bad ones fail with one line that names the file, the key and the expected
 * versus actual shape, before anything reaches ND4J's native readers.
 */
class CheckpointErrorsTest {

    private static Path fixture(String name) {
        try {
            return Path.of(CheckpointErrorsTest.class.getResource("/fixtures/vit/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String oneLineError(Runnable action) {
        CheckpointException e = assertThrows(CheckpointException.class, action::run);
        assertFalse(e.getMessage().contains("\n"), "multi-line message: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void bigEndianFortranAndFloat64ArchivesReadLikeTheOriginal() {
        StateDict google = NpzReader.readNpz(fixture("google.npz"));
        for (String odd : new String[]{"bigendian.npz", "fortran.npz", "float64.npz", "compressed.npz"}) {
            StateDict other = NpzReader.readNpz(fixture(odd));
            assertFalse(other.keys().isEmpty());
            for (String key : other.keys()) {
                INDArray expected = google.get(key);
                assertArrayEquals(expected.shape(), other.get(key).shape(), odd + " " + key);
                assertEquals(0.0, expected.sub(other.get(key)).amaxNumber().doubleValue(), 0.0, odd + " " + key);
            }
        }
    }

    @Test
    void boolArraysReadAsZeroOne() {
        StateDict d = NpzReader.readNpz(fixture("bool.npz"));
        INDArray mask = d.get("mask");
        assertTrue(mask.minNumber().doubleValue() >= 0 && mask.maxNumber().doubleValue() <= 1);
    }

    @Test
    void truncatedFilesNameTheFile() {
        String npz = oneLineError(() -> NpzReader.readNpz(fixture("truncated.npz")));
        assertTrue(npz.contains("truncated.npz") && npz.contains("truncated"), npz);
        String st = oneLineError(() -> SafetensorsReader.read(fixture("truncated.safetensors")));
        assertTrue(st.contains("truncated.safetensors") && st.contains("truncated"), st);
        String header = oneLineError(() -> SafetensorsReader.read(fixture("bad_header.safetensors")));
        assertTrue(header.contains("bad_header.safetensors") && header.contains("header length"), header);
    }

    @Test
    void missingKeyIsNamedAsInTheFile(@TempDir Path dir) {
        Map<String, INDArray> arrays = googleArrays();
        arrays.remove("Transformer/encoderblock_1/MlpBlock_3/Dense_0/kernel");
        Path file = writeNpz(dir, "missing.npz", arrays);
        String m = oneLineError(() -> VitCheckpoint.read(file, VitCheckpoint.Options.defaults()));
        assertTrue(m.contains("missing.npz") && m.contains("missing key")
                && m.contains("'Transformer/encoderblock_1/MlpBlock_3/Dense_0/kernel'"), m);
    }

    @Test
    void unexpectedKeysAreListedUnlessLoadingNonStrictly(@TempDir Path dir) {
        Map<String, INDArray> arrays = googleArrays();
        arrays.put("Transformer/encoderblock_0/Adapter/kernel", Nd4j.ones(4, 4));
        Path file = writeNpz(dir, "extra.npz", arrays);
        String m = oneLineError(() -> VitCheckpoint.read(file, VitCheckpoint.Options.defaults()));
        assertTrue(m.contains("extra.npz") && m.contains("unexpected keys")
                && m.contains("Transformer/encoderblock_0/Adapter/kernel"), m);
        assertEquals(2, VitCheckpoint.read(file, VitCheckpoint.Options.defaults().withStrict(false)).config()
                .getDepth());
    }

    @Test
    void wrongShapeNamesKeyExpectedAndActual(@TempDir Path dir) {
        Map<String, INDArray> arrays = googleArrays();
        arrays.put("Transformer/encoderblock_1/MlpBlock_3/Dense_1/bias", Nd4j.zeros(31));
        Path file = writeNpz(dir, "shape.npz", arrays);
        String m = oneLineError(() -> VitCheckpoint.read(file, VitCheckpoint.Options.defaults()).toGraph());
        assertTrue(m.contains("shape.npz") && m.contains("'Transformer/encoderblock_1/MlpBlock_3/Dense_1/bias'")
                && m.contains("[31]") && m.contains("expected [32]"), m);
    }

    @Test
    void headsFromTheFileAreCheckedAgainstTheOption() {
        String m = oneLineError(() -> VitCheckpoint.read(fixture("google.npz"),
                VitCheckpoint.Options.defaults().withNumHeads(4)));
        assertTrue(m.contains("google.npz") && m.contains("--heads 4") && m.contains("stores 2"), m);
        String unknown = oneLineError(() -> VitCheckpoint.read(fixture("timm.safetensors"),
                VitCheckpoint.Options.defaults()));
        assertTrue(unknown.contains("timm.safetensors") && unknown.contains("--heads"), unknown);
        String divisor = oneLineError(() -> VitCheckpoint.read(fixture("timm.safetensors"),
                VitCheckpoint.Options.defaults().withNumHeads(3)));
        assertTrue(divisor.contains("does not divide the width 32"), divisor);
    }

    @Test
    void unknownFilesAndNamings(@TempDir Path dir) throws IOException {
        Path text = Files.writeString(dir.resolve("notes.txt"), "hello");
        assertTrue(oneLineError(() -> CheckpointFormat.detect(text)).contains("unknown checkpoint format"));
        Path pickle = Files.write(dir.resolve("model.pth"), new byte[]{(byte) 0x80, 2, 'N', '.'});
        assertTrue(oneLineError(() -> CheckpointFormat.detect(pickle)).contains("a Python pickle that torch.save did "
                + "not write"));
        Map<String, INDArray> arrays = new LinkedHashMap<>();
        arrays.put("conv1.weight", Nd4j.ones(2, 2));
        Path resnet = writeNpz(dir, "resnet.npz", arrays);
        String m = oneLineError(() -> VitCheckpoint.of(NpzReader.readNpz(resnet), OptionalInt.empty(),
                VitCheckpoint.Options.defaults()));
        assertTrue(m.contains("resnet.npz") && m.contains("not a ViT checkpoint") && m.contains("conv1.weight"), m);
    }

    private static Map<String, INDArray> googleArrays() {
        return new LinkedHashMap<>(NpzReader.readNpz(fixture("google.npz")).tensors());
    }

    private static Path writeNpz(Path dir, String name, Map<String, INDArray> arrays) {
        Path file = dir.resolve(name);
        NpzWriter.writeNpz(file, arrays);
        return file;
    }
}
