package org.sa2vp.io;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * MAT-files written by SciPy's {@code savemat} (compressed and not) and one written byte by byte the way MATLAB
 * stores small values, which SciPy reads back ({@code tools/reference/make_archive_fixtures.py}).
 */
class MatFileTest {

    @Test
    void readsSciPysCompressedAndPlainFiles() {
        for (String name : List.of("svhn/train_32x32.mat", "svhn/test_32x32.mat")) {
            Map<String, MatFile.Variable> variables = MatFile.read(RestrictedUnpicklerTest.fixture(name));
            assertEquals(List.of("X", "y"), List.copyOf(variables.keySet()), name);
            MatFile.Variable x = variables.get("X");
            int n = name.startsWith("svhn/train") ? 10 : 5;
            assertEquals("uint8", x.className());
            assertArrayEquals(new int[]{32, 32, 3, n}, x.dimensions(), name);
            assertEquals(32 * 32 * 3 * n, x.uint8().length, name);
            MatFile.Variable y = variables.get("y");
            assertEquals("double", y.className());
            assertArrayEquals(new int[]{n, 1}, y.dimensions(), name);
            assertTrue(Arrays.stream(y.doubles()).allMatch(v -> v >= 1 && v <= 10), name);
        }
    }

    @Test
    void widensValuesStoredNarrowerThanTheirClass() {
        MatFile.Variable y = MatFile.read(RestrictedUnpicklerTest.fixture("narrow.mat")).get("y");
        assertEquals("double", y.className());
        assertArrayEquals(new int[]{3, 1}, y.dimensions());
        assertArrayEquals(new double[]{1, 10, 3}, y.doubles());
    }

    @Test
    void badFilesAreOneLine() throws IOException {
        byte[] whole = Files.readAllBytes(RestrictedUnpicklerTest.fixture("svhn/test_32x32.mat"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MatFile.read(Arrays.copyOf(whole, whole.length - 100), "cut.mat"));
        assertEquals("cut.mat: data element at byte 128 claims 15416 bytes, 15412 remain (truncated file?)",
                e.getMessage());
        byte[] hdf5 = Arrays.copyOf("MATLAB 7.3 MAT-file, Platform: GLNXA64".getBytes(StandardCharsets.US_ASCII), 512);
        e = assertThrows(IllegalArgumentException.class, () -> MatFile.read(hdf5, "v73.mat"));
        assertEquals("v73.mat is a MATLAB 7.3 MAT-file (HDF5); this reader reads level 5 files (MATLAB's -v7 or -v6, "
                + "SciPy's savemat)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> MatFile.read(new byte[200], "zeros.mat"));
        assertEquals("zeros.mat is not a MATLAB level 5 MAT-file (its header does not begin with 'MATLAB 5.0 "
                + "MAT-file')", e.getMessage());
        byte[] compressed = Files.readAllBytes(RestrictedUnpicklerTest.fixture("svhn/train_32x32.mat"));
        byte[] corrupt = compressed.clone();
        for (int i = 140; i < 180; i++) {
            corrupt[i] ^= 0x5a;
        }
        e = assertThrows(IllegalArgumentException.class, () -> MatFile.read(corrupt, "corrupt.mat"));
        assertTrue(e.getMessage().startsWith("corrupt.mat: a compressed element is corrupt ("), e.getMessage());
    }
}
