package org.sa2vp.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * NumPy arrays inside pickles, for {@link RestrictedUnpickler}: the callables a pickled {@code ndarray} names, and
 * the array they build ({@link NumpyArray}). Covers both ways NumPy pickles an array: protocols 0–4 call
 * {@code multiarray._reconstruct} and set the state (shape, dtype, order, raw bytes; Python 2 pickles such as the
 * CIFAR archives hold the raw bytes as a Latin-1 string, Python 3 ones as bytes),
 * protocol 5 calls {@code numeric._frombuffer}. NumPy 2 moved both into {@code numpy._core}; both names are allowed.
 * Only plain numeric dtypes are accepted: object and structured arrays hold pickled Python objects, not numbers.
 */
public final class NumpyPickles {

    private NumpyPickles() {
    }

    /** The callables a pickled NumPy array needs, by Python name, for {@link RestrictedUnpickler#allowing}. */
    public static Map<String, RestrictedUnpickler.PythonCallable> callables() {
        Map<String, RestrictedUnpickler.PythonCallable> callables = new LinkedHashMap<>();
        for (String core : List.of("numpy.core", "numpy._core")) {
            callables.put(core + ".multiarray._reconstruct", arguments -> new NumpyArray());
            callables.put(core + ".numeric._frombuffer", NumpyPickles::fromBuffer);
        }
        callables.put("numpy.ndarray", arguments -> {
            throw new IllegalArgumentException("is only an argument of _reconstruct here, never called");
        });
        callables.put("numpy.dtype", arguments -> new NumpyDtype(text(arguments.get(0), "dtype")));
        return callables;
    }

    /**
     * A pickled array: element type, shape and the raw bytes in the array's order.
     *
     * <p>{@code dtype} is NumPy's type string with its byte order ({@code "<f4"}, {@code "|u1"}, …).
     */
    public static final class NumpyArray implements RestrictedUnpickler.Stateful {
        private NumpyDtype dtype;
        private long[] shape;
        private boolean fortranOrder;
        private byte[] data;

        /** NumPy's type string: byte order ({@code <}, {@code >}, {@code |}), kind and size, e.g. {@code "<f4"}. */
        public String dtype() {
            return dtype.descr();
        }

        /** The shape (empty for a scalar). */
        public long[] shape() {
            return shape.clone();
        }

        /** Whether the bytes are in column-major (Fortran) order instead of NumPy's default row-major. */
        public boolean fortranOrder() {
            return fortranOrder;
        }

        /** The number of elements. */
        public long elementCount() {
            return Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        }

        /** The raw bytes, shared (not copied), in the array's order. */
        public byte[] rawBytes() {
            return data;
        }

        /**
         * Every element as a {@code long}, in the array's order.
         *
         * @throws IllegalArgumentException for a dtype that is not a signed or unsigned integer or boolean
         */
        public long[] longs() {
            ByteBuffer buffer = ByteBuffer.wrap(data).order(dtype.order());
            long[] out = new long[Math.toIntExact(elementCount())];
            for (int i = 0; i < out.length; i++) {
                out[i] = switch ("" + dtype.kind() + dtype.size()) {
                    case "u1", "b1" -> buffer.get() & 0xffL;
                    case "i1" -> buffer.get();
                    case "u2" -> buffer.getShort() & 0xffffL;
                    case "i2" -> buffer.getShort();
                    case "u4" -> buffer.getInt() & 0xffffffffL;
                    case "i4" -> buffer.getInt();
                    case "u8", "i8" -> buffer.getLong();
                    default -> throw new IllegalArgumentException("a " + dtype() + " array holds no integers");
                };
            }
            return out;
        }

        @Override
        public void setState(Object state) {
            // (version, shape, dtype, is_fortran, raw); NumPy before 1.0 wrote it without the version.
            List<Object> fields = new ArrayList<>(state instanceof List<?> l ? l : List.of());
            if (fields.size() == 4) {
                fields.add(0, 0L);
            }
            if (fields.size() != 5 || !(fields.get(2) instanceof NumpyDtype type)) {
                throw new IllegalArgumentException("an ndarray's state is (version, shape, dtype, order, data), found "
                        + RestrictedUnpickler.describe(state));
            }
            set(type, fields.get(1), Boolean.TRUE.equals(fields.get(3)), fields.get(4));
        }

        private void set(NumpyDtype type, Object shapeValue, boolean fortran, Object raw) {
            if (!(shapeValue instanceof List<?> dims)) {
                throw new IllegalArgumentException("an ndarray's shape is a tuple, found "
                        + RestrictedUnpickler.describe(shapeValue));
            }
            long[] s = new long[dims.size()];
            for (int i = 0; i < s.length; i++) {
                if (!(dims.get(i) instanceof Long d) || d < 0) {
                    throw new IllegalArgumentException("an ndarray's shape holds " + dims + ", not sizes");
                }
                s[i] = d;
            }
            byte[] bytes = raw instanceof RestrictedUnpickler.Bytes b ? b.value()
                    : raw instanceof String text ? text.getBytes(StandardCharsets.ISO_8859_1) : null;
            if (bytes == null) {
                throw new IllegalArgumentException("a " + type.descr() + " array whose data is "
                        + RestrictedUnpickler.describe(raw) + " (an object array?); only numeric arrays are data");
            }
            this.dtype = type;
            this.shape = s;
            this.fortranOrder = fortran;
            this.data = bytes;
            long expected = elementCount() * type.size();
            if (bytes.length != expected) {
                throw new IllegalArgumentException("a " + type.descr() + " array of shape " + Arrays.toString(s)
                        + " needs " + expected + " bytes, found " + bytes.length);
            }
        }
    }

    /** {@code numpy.dtype(descr, align, copy)}, then its state: the byte order. */
    private static final class NumpyDtype implements RestrictedUnpickler.Stateful {
        private final char kind;
        private final int size;
        private char byteOrder = '|';

        NumpyDtype(String name) {
            // "u1", "f8", "i4", "b1"; older pickles may say "<f4" directly.
            String body = name.isEmpty() || "<>|=".indexOf(name.charAt(0)) < 0 ? name : name.substring(1);
            if (!name.isEmpty() && "<>|=".indexOf(name.charAt(0)) >= 0) {
                byteOrder = name.charAt(0);
            }
            if (body.length() < 2 || "biuf".indexOf(body.charAt(0)) < 0) {
                throw new IllegalArgumentException("dtype '" + name + "' is not a plain number type (object, string "
                        + "and structured arrays are not data this reader takes)");
            }
            kind = body.charAt(0);
            try {
                size = Integer.parseInt(body.substring(1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("dtype '" + name + "' has no element size");
            }
        }

        @Override
        public void setState(Object state) {
            // (version, byte order, subarray, names, fields, element size, alignment, flags[, metadata])
            if (!(state instanceof List<?> fields) || fields.size() < 8 || !(fields.get(1) instanceof String order)) {
                throw new IllegalArgumentException("a dtype's state is (version, byte order, …), found "
                        + RestrictedUnpickler.describe(state));
            }
            if (fields.get(2) != null || fields.get(3) != null || fields.get(4) != null) {
                throw new IllegalArgumentException("dtype " + kind + size + " is a structured or sub-array type, "
                        + "not a plain number type");
            }
            byteOrder = order.isEmpty() ? '|' : order.charAt(0);
        }

        char kind() {
            return kind;
        }

        int size() {
            return size;
        }

        ByteOrder order() {
            return byteOrder == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        }

        /** NumPy's {@code dtype.str}: '|' for one-byte types, else the byte order ('=' is this machine's: '<'). */
        String descr() {
            char order = size == 1 ? '|' : byteOrder == '>' ? '>' : '<';
            return "" + order + kind + size;
        }
    }

    /** Protocol 5: {@code _frombuffer(buffer, dtype, shape, order)}. */
    private static Object fromBuffer(List<Object> arguments) {
        if (arguments.size() != 4 || !(arguments.get(1) instanceof NumpyDtype type)) {
            throw new IllegalArgumentException("takes (buffer, dtype, shape, order), found " + arguments.size()
                    + " arguments");
        }
        NumpyArray array = new NumpyArray();
        array.set(type, arguments.get(2), "F".equals(arguments.get(3)), arguments.get(0));
        return array;
    }

    private static String text(Object value, String what) {
        if (value instanceof String s) {
            return s;
        }
        throw new IllegalArgumentException("takes a " + what + " name, found " + RestrictedUnpickler.describe(value));
    }
}
