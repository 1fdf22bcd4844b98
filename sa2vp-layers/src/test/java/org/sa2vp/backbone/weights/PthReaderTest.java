package org.sa2vp.backbone.weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@code torch.save} files as torch 1.13 writes them ({@code tools/reference/vit/make_pth_fixtures.py}): every dtype
 * becomes what NumPy's float32 makes of it, the state dict is found where timm finds it, the zip form is told from an
 * {@code .npz} by its bytes, and malformed or unsafe files fail in one exact line.
 */
class PthReaderTest {

    /** What the reader allows, as its refusals list it: Python's own value types and {@link PthReader#ALLOWED}. */
    private static final String ALLOWED = "[__builtin__.bytearray, __builtin__.bytes, __builtin__.frozenset, "
            + "__builtin__.set, _codecs.encode, builtins.bytearray, builtins.bytes, builtins.frozenset, builtins.set, "
            + "collections.OrderedDict, torch.BFloat16Storage, torch.BoolStorage, torch.ByteStorage, "
            + "torch.CharStorage, torch.DoubleStorage, torch.FloatStorage, torch.HalfStorage, torch.IntStorage, "
            + "torch.LongStorage, torch.ShortStorage, torch._utils._rebuild_parameter, "
            + "torch._utils._rebuild_parameter_with_state, torch._utils._rebuild_tensor_v2]";

    private static Path fixture(String name) {
        try {
            return Path.of(PthReaderTest.class.getResource("/fixtures/vit/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String error(Path file) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> PthReader.read(file));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    /**
     * float64, bfloat16, float16, int64 (0-d and 2-d), int32, int16, int8, uint8, bool and float32 views (a
     * permutation, a strided slice at an offset) equal NumPy's float32 of each; the state dict is the one under
     * 'state_dict' (timm's order puts it before 'model'), its DataParallel prefix 'module.' removed.
     */
    @Test
    void everyDtypeAndViewReadsAsNumpysFloat32() {
        StateDict expected = NpzReader.readNpz(fixture("pth/dtypes_expected.npz"));
        StateDict read = PthReader.read(fixture("pth/dtypes.pth"));
        assertEquals(List.copyOf(expected.keys()), List.copyOf(read.keys()));
        for (String key : expected.keys()) {
            INDArray want = expected.get(key);
            INDArray got = read.get(key);
            // fixture_io.npz_bytes stores a 0-d array as [1] (numpy.ascontiguousarray); torch's 0-d shape is kept.
            assertArrayEquals(want.shape(), got.rank() == 0 ? new long[]{1} : got.shape(), key);
            assertArrayEquals(want.dup('c').data().asFloat(), got.dup('c').data().asFloat(), key);
        }
        assertEquals(0, read.get("bn.num_batches_tracked").rank());
        assertEquals(5.0f, read.get("bn.num_batches_tracked").getFloat(0));
        assertEquals("'module.relative_position_index' (relative_position_index)",
                read.describe("relative_position_index"));
    }

    /** A module's state_dict() carries an attribute '_metadata', which is no tensor of the state dict. */
    @Test
    void theStateDictsMetadataIsNoEntry() {
        StateDict read = PthReader.read(fixture("pth/timm.pth"));
        assertEquals(32, read.keys().size());
        assertEquals(SafetensorsReader.read(fixture("timm.safetensors")).keys(), read.keys());
    }

    @Test
    void keysAreTheStateDictsNamesWithoutReadingItsTensors() {
        for (String name : List.of("pth/timm.pth", "pth/timm_model_epoch.pth", "pth/timm_legacy.pth")) {
            assertEquals(List.copyOf(PthReader.read(fixture(name)).keys()), PthReader.keys(fixture(name)), name);
        }
    }

    @Test
    void detectTellsTorchSaveFilesByTheirBytes(@TempDir Path dir) throws IOException {
        assertEquals(CheckpointFormat.PTH, CheckpointFormat.detect(fixture("pth/timm.pth")));
        assertEquals(CheckpointFormat.PTH, CheckpointFormat.detect(fixture("pth/timm_legacy.pth")));
        assertEquals(CheckpointFormat.PTH, CheckpointFormat.detect(fixture("pth/truncated.pth")));
        assertEquals(CheckpointFormat.NPZ, CheckpointFormat.detect(fixture("timm.npz")));
        assertEquals(CheckpointFormat.NPZ, CheckpointFormat.detect(fixture("compressed.npz")));
        // Both are zip archives: the entries tell them apart, not the extension.
        Path npzNamedPth = Files.copy(fixture("timm.npz"), dir.resolve("model.pth"));
        Path pthNamedNpz = Files.copy(fixture("pth/timm.pth"), dir.resolve("model.npz"));
        assertEquals(CheckpointFormat.NPZ, CheckpointFormat.detect(npzNamedPth));
        assertEquals(CheckpointFormat.PTH, CheckpointFormat.detect(pthNamedNpz));
        assertEquals(32, PthReader.read(pthNamedNpz).keys().size());
        // A zip whose first entry is not the pickle: the central directory still shows it.
        Path reordered = dir.resolve("reordered.pth");
        try (ZipFile zip = new ZipFile(fixture("pth/timm.pth").toFile());
             ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(reordered))) {
            List<? extends ZipEntry> entries = Collections.list(zip.entries());
            Collections.reverse(entries);
            for (ZipEntry entry : entries) {
                out.putNextEntry(new ZipEntry(entry.getName()));
                out.write(zip.getInputStream(entry).readAllBytes());
            }
        }
        assertEquals(CheckpointFormat.PTH, CheckpointFormat.detect(reordered));
        Path pickle = fixture("../archives/values-protocol2.pkl");
        CheckpointException e = assertThrows(CheckpointException.class, () -> CheckpointFormat.detect(pickle));
        assertEquals(pickle + ": a Python pickle that torch.save did not write (it does not start with torch's "
                + "magic number); expected a .npz, .safetensors, torch.save .pth, .onnx or Keras .h5 file",
                e.getMessage());
    }

    @Test
    void codeInThePickleIsRefusedNamingFileAndEntry() {
        Path system = fixture("pth/os_system.pth");
        assertEquals(system + " (archive/data.pkl): the pickle calls posix.system, which is not one of the data "
                + "constructors this reader allows " + ALLOWED + "; refusing to run it (pickle byte 2)", error(system));
        Path module = fixture("pth/linear_module.pth");
        assertEquals(module + " (linear_module/data.pkl): the pickle calls torch.nn.modules.linear.Linear, which is "
                + "not one of the data constructors this reader allows " + ALLOWED + "; refusing to run it (pickle "
                + "byte 2)", error(module));
    }

    @Test
    void brokenFilesFailInOneLine() {
        Path truncated = fixture("pth/truncated.pth");
        assertEquals(truncated + ": not a readable zip archive (zip END header not found); the torch.save file may "
                + "be truncated", error(truncated));
        Path missing = fixture("pth/missing_storage.pth");
        assertEquals(missing + " (timm_float16/data.pkl): storage '24' (HalfStorage of 2048 elements) has no entry "
                + "'timm_float16/data/24' in the archive; the file is incomplete (pickle byte 2080)", error(missing));
        Path none = fixture("pth/no_state_dict.pth");
        assertEquals(none + ": no state dict (a dictionary of tensors) at the top level or under any of "
                + "[state_dict_ema, model_ema, state_dict, model, model_state, module]; the top-level keys are "
                + "[epoch, arch]", error(none));
    }

    /** The legacy form cut inside its pickles and inside its storages. */
    @Test
    void truncatedLegacyFilesNameWhereTheyEnd(@TempDir Path dir) throws IOException {
        byte[] whole = Files.readAllBytes(fixture("pth/timm_legacy.pth"));
        Path inPickle = Files.write(dir.resolve("pickle.pth"), Arrays.copyOf(whole, 2000));
        assertEquals(inPickle + ": the pickle ends without STOP (truncated file?) (pickle byte 1999)",
                error(inPickle));
        Path inData = Files.write(dir.resolve("data.pth"), Arrays.copyOf(whole, whole.length - 10));
        assertEquals(inData + ": storage '000000031' (FloatStorage of 10 elements) needs 48 bytes from byte 101715, "
                + "but the file ends at byte 101753 (truncated file?)", error(inData));
    }

    /**
     * torch 2 writes the byte order into {@code <root>/byteorder}: the float16 file with every element's bytes
     * swapped and 'big' there reads as the original; another word is refused.
     */
    @Test
    void bigEndianStoragesFollowTheByteorderEntry(@TempDir Path dir) throws IOException {
        Path original = fixture("pth/timm_float16.pth");
        StateDict expected = PthReader.read(original);
        Path big = rewrite(original, dir.resolve("big.pth"), "big");
        StateDict read = PthReader.read(big);
        for (String key : expected.keys()) {
            assertArrayEquals(expected.get(key).dup('c').data().asFloat(), read.get(key).dup('c').data().asFloat(),
                    key);
        }
        Path middle = rewrite(original, dir.resolve("middle.pth"), "middle");
        assertEquals(middle + ": entry 'timm_float16/byteorder' says 'middle', expected 'little' or 'big'",
                error(middle));
    }

    /** A copy of a float16 zip-form file with a byteorder entry, its storages' 2-byte elements swapped for 'big'. */
    private static Path rewrite(Path original, Path copy, String byteOrder) throws IOException {
        try (ZipFile zip = new ZipFile(original.toFile());
             OutputStream file = Files.newOutputStream(copy);
             ZipOutputStream out = new ZipOutputStream(file)) {
            for (ZipEntry entry : Collections.list(zip.entries())) {
                byte[] bytes = zip.getInputStream(entry).readAllBytes();
                if (entry.getName().contains("/data/") && byteOrder.equals("big")) {
                    for (int i = 0; i + 1 < bytes.length; i += 2) {
                        byte low = bytes[i];
                        bytes[i] = bytes[i + 1];
                        bytes[i + 1] = low;
                    }
                }
                out.putNextEntry(new ZipEntry(entry.getName()));
                out.write(bytes);
                if (entry.getName().endsWith("/data.pkl")) {
                    out.putNextEntry(new ZipEntry(entry.getName().replace("data.pkl", "byteorder")));
                    out.write(byteOrder.getBytes());
                }
            }
        }
        return copy;
    }
}
