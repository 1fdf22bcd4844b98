package org.sa2vp.io;

import org.junit.jupiter.api.Test;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.math.BigInteger;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The pickle reader against CPython's own pickler ({@code tools/reference/make_archive_fixtures.py}): one structure
 * of every data value at protocols 0 to 5, NumPy arrays at 2, 4 and 5, and a pickle that would run a command.
 */
class RestrictedUnpicklerTest {

    private static final RestrictedUnpickler READER = RestrictedUnpickler.allowing(NumpyPickles.callables());

    static Path fixture(String name) {
        try {
            return Path.of(RestrictedUnpicklerTest.class.getResource("/fixtures/archives/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object read(String name) throws IOException {
        return READER.read(Files.readAllBytes(fixture(name)), name);
    }

    @Test
    void everyProtocolGivesPythonsValues() throws IOException {
        JsonNode expected = new ObjectMapper().readTree(fixture("values.json").toFile());
        for (int protocol = 0; protocol <= 5; protocol++) {
            Object value = read("values-protocol" + protocol + ".pkl");
            assertMatches(expected, value, "protocol " + protocol);
            // A list pickled twice is one object, through the memo.
            List<?> shared = (List<?>) ((Map<?, ?>) value).get("shared");
            assertSame(shared.get(0), shared.get(1), "protocol " + protocol);
        }
    }

    @Test
    void numpyArraysKeepTypeShapeOrderAndValues() throws IOException {
        JsonNode expected = new ObjectMapper().readTree(fixture("arrays.json").toFile());
        for (int protocol : new int[]{2, 4, 5}) {
            Map<?, ?> arrays = (Map<?, ?>) read("arrays-protocol" + protocol + ".pkl");
            assertEquals(expected.size(), arrays.size());
            for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String where = e.getKey() + " at protocol " + protocol;
                NumpyPickles.NumpyArray array = assertInstanceOf(NumpyPickles.NumpyArray.class,
                        arrays.get(e.getKey()), where);
                assertEquals(e.getValue().get("dtype").asText(), array.dtype(), where);
                long[] shape = new long[e.getValue().get("shape").size()];
                Arrays.setAll(shape, i -> e.getValue().get("shape").get(i).asLong());
                assertArrayEquals(shape, array.shape(), where);
                assertEquals(e.getValue().get("fortran").asBoolean(), array.fortranOrder(), where);
                long[] stored = new long[e.getValue().get("stored").size()];
                Arrays.setAll(stored, i -> e.getValue().get("stored").get(i).asLong());
                assertArrayEquals(stored, array.longs(), where);
            }
        }
    }

    @Test
    void aPickleThatWouldRunACommandIsRefusedInOneLine() throws IOException {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> read("refused.pkl"));
        assertTrue(e.getMessage().startsWith("refused.pkl: the pickle calls posix.system, which is not one of the "
                + "data constructors this reader allows [__builtin__.bytearray, "), e.getMessage());
        assertTrue(e.getMessage().endsWith(", numpy.dtype, numpy.ndarray]; refusing to run it (pickle byte 31)"),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        // Nothing is allowed unless given: a plain reader refuses even NumPy.
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> RestrictedUnpickler
                .allowing(Map.of()).read(Files.readAllBytes(fixture("arrays-protocol2.pkl")), "a.pkl"));
        assertTrue(none.getMessage().startsWith("a.pkl: the pickle calls numpy._core.multiarray._reconstruct, "),
                none.getMessage());
    }

    @Test
    void brokenStreamsAreOneLineNamingTheByte() throws IOException {
        byte[] whole = Files.readAllBytes(fixture("values-protocol2.pkl"));
        for (int cut : new int[]{1, 2, 30, whole.length / 2, whole.length - 1}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> READER.read(Arrays.copyOf(whole, cut), "cut.pkl"), "cut at " + cut);
            assertTrue(e.getMessage().startsWith("cut.pkl: ") && e.getMessage().contains("(truncated file?)")
                    && !e.getMessage().contains("\n"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> READER.read(new byte[]{(byte) 0x80, 2, 0x00}, "zero.pkl"));
        assertEquals("zero.pkl: unknown pickle opcode 0x00 (not a pickle, or a corrupt one) (pickle byte 2)",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> READER.read(new byte[]{(byte) 0x80, 6, 'N', '.'},
                "new.pkl"));
        assertEquals("new.pkl: pickle protocol 6 is newer than the 5 this reader knows (pickle byte 0)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> READER.read(new byte[]{'N', 'N', '.'}, "two.pkl"));
        assertEquals("two.pkl: STOP with 2 values and 0 marks on the stack, expected one value (pickle byte 2)",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> READER.read(new byte[]{'h', 3, '.'}, "memo.pkl"));
        assertEquals("memo.pkl: memo entry 3 is read before it is written (pickle byte 0)", e.getMessage());
    }

    @Test
    void persistentIdsNeedALoader() {
        // PROTO 2, BINUNICODE 'key', BINPERSID, STOP: how torch.save refers to a tensor's storage.
        byte[] pickle = {(byte) 0x80, 2, 'X', 3, 0, 0, 0, 'k', 'e', 'y', 'Q', '.'};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> READER.read(pickle, "p.pkl"));
        assertEquals("p.pkl: the pickle refers to an object outside it (persistent id 'key'), and no loader for those "
                + "was given (pickle byte 10)", e.getMessage());
        assertEquals("loaded key", READER.withPersistentLoad(id -> "loaded " + id).read(pickle, "p.pkl"));
        // PROTO 2, GLOBAL 'numpy dtype', BINPERSID, STOP: torch.save names a storage's type this way.
        byte[] typed = {(byte) 0x80, 2, 'c', 'n', 'u', 'm', 'p', 'y', '\n', 'd', 't', 'y', 'p', 'e', '\n', 'Q', '.'};
        assertEquals("numpy.dtype", READER.withPersistentLoad(id -> ((RestrictedUnpickler.Global) id).name())
                .read(typed, "t.pkl"));
    }

    @Test
    void picklesInARowAreReadOneAfterAnother() {
        // PROTO 2, BININT1 7, STOP; INT '42' (protocol 0, a text line), STOP; three raw bytes; PROTO 2 and a zero
        // byte: the legacy torch.save layout of pickles followed by data.
        byte[] bytes = {(byte) 0x80, 2, 'K', 7, '.', 'I', '4', '2', '\n', '.', 1, 2, 3, (byte) 0x80, 2, 0};
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN);
        assertEquals(7L, READER.read(in, "row.pkl"));
        assertEquals(5, in.position());
        assertEquals(42L, READER.read(in, "row.pkl"));
        assertEquals(10, in.position());
        assertEquals(ByteOrder.BIG_ENDIAN, in.order());
        in.position(13);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> READER.read(in, "row.pkl"));
        assertEquals("row.pkl: unknown pickle opcode 0x00 (not a pickle, or a corrupt one) (pickle byte 15)",
                e.getMessage());
    }

    /** Compares a value read here with the tagged JSON the fixture script wrote from Python's. */
    private static void assertMatches(JsonNode expected, Object actual, String where) {
        if (expected.isNull()) {
            assertNull(actual, where);
        } else if (expected.isBoolean()) {
            assertEquals(expected.asBoolean(), actual, where);
        } else if (expected.isTextual()) {
            assertEquals(expected.asText(), actual, where);
        } else if (expected.isArray()) {
            List<?> list = assertInstanceOf(ArrayList.class, actual, where + ": a list");
            assertEquals(expected.size(), list.size(), where);
            for (int i = 0; i < list.size(); i++) {
                assertMatches(expected.get(i), list.get(i), where + "[" + i + "]");
            }
        } else if (expected.has("int")) {
            BigInteger value = actual instanceof Long l ? BigInteger.valueOf(l)
                    : assertInstanceOf(BigInteger.class, actual, where);
            if (actual instanceof BigInteger big) {
                assertTrue(big.bitLength() >= 64, where + ": a BigInteger only beyond 64 bits");
            }
            assertEquals(new BigInteger(expected.get("int").asText()), value, where);
        } else if (expected.has("float")) {
            double value = switch (expected.get("float").asText()) {
                case "inf" -> Double.POSITIVE_INFINITY;
                case "-inf" -> Double.NEGATIVE_INFINITY;
                default -> Double.parseDouble(expected.get("float").asText());
            };
            assertEquals(0, Double.compare(value, assertInstanceOf(Double.class, actual, where)), where);
        } else if (expected.has("bytes")) {
            assertArrayEquals(HexFormat.of().parseHex(expected.get("bytes").asText()),
                    assertInstanceOf(RestrictedUnpickler.Bytes.class, actual, where).value(), where);
        } else if (expected.has("tuple")) {
            List<?> tuple = assertInstanceOf(List.class, actual, where);
            assertThrows(UnsupportedOperationException.class, () -> tuple.add(null), where + ": a tuple is fixed");
            JsonNode items = expected.get("tuple");
            assertEquals(items.size(), tuple.size(), where);
            for (int i = 0; i < tuple.size(); i++) {
                assertMatches(items.get(i), tuple.get(i), where + "(" + i + ")");
            }
        } else if (expected.has("set")) {
            Set<?> set = assertInstanceOf(Set.class, actual, where);
            assertEquals(expected.get("set").size(), set.size(), where);
            for (JsonNode item : expected.get("set")) {
                if (set.stream().noneMatch(v -> matches(item, v))) {
                    fail(where + ": no element matches " + item);
                }
            }
        } else if (expected.has("dict")) {
            Map<?, ?> map = assertInstanceOf(Map.class, actual, where);
            JsonNode pairs = expected.get("dict");
            assertEquals(pairs.size(), map.size(), where);
            Iterator<? extends Map.Entry<?, ?>> entries = map.entrySet().iterator();
            for (JsonNode pair : pairs) {
                Map.Entry<?, ?> entry = entries.next();
                assertMatches(pair.get(0), entry.getKey(), where + " key");
                assertMatches(pair.get(1), entry.getValue(), where + "[" + entry.getKey() + "]");
            }
        } else {
            fail(where + ": unknown tag " + expected);
        }
    }

    private static boolean matches(JsonNode expected, Object actual) {
        try {
            assertMatches(expected, actual, "");
            return true;
        } catch (AssertionError e) {
            return false;
        }
    }
}
