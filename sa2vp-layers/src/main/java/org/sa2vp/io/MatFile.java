package org.sa2vp.io;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The numeric arrays of a MATLAB MAT-file, level 5 (what MATLAB writes with {@code -v6} and {@code -v7}, and what
 * SciPy's {@code savemat} writes): SVHN's {@code train_32x32.mat} is one. Neither DL4J nor ND4J reads MAT-files.
 *
 * <p>The format: a 128-byte header (text, then version 0x0100 and the endian mark {@code IM} or {@code MI}), then one
 * data element per variable, each an 8-byte tag (type, byte count) or a 4-byte "small element" tag, padded to 8
 * bytes inside a matrix. A variable is a {@code miMATRIX} element (flags with the class, dimensions, name, real
 * part), possibly wrapped in a zlib-compressed {@code miCOMPRESSED} element. MATLAB may store a matrix's values in a
 * narrower type than its class (a double array of small integers as bytes); {@link Variable#doubles()} widens them.
 * Variables that are not real numeric arrays (cells, structures, sparse, complex, text) are listed with their class
 * and refused only when asked for their values. MATLAB 7.3 files are HDF5 and get a one-line error.
 */
public final class MatFile {

    /** MATLAB's array classes, by their number in the flags ({@code mxDOUBLE_CLASS} = 6 …). */
    private static final String[] CLASS_NAMES = {"?", "cell", "struct", "object", "char", "sparse", "double",
            "single", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"};
    private static final int MI_INT8 = 1;
    private static final int MI_UINT8 = 2;
    private static final int MI_INT16 = 3;
    private static final int MI_UINT16 = 4;
    private static final int MI_INT32 = 5;
    private static final int MI_UINT32 = 6;
    private static final int MI_SINGLE = 7;
    private static final int MI_DOUBLE = 9;
    private static final int MI_INT64 = 12;
    private static final int MI_UINT64 = 13;
    private static final int MI_MATRIX = 14;
    private static final int MI_COMPRESSED = 15;

    /**
     * One variable.
     *
     * @param name       its name
     * @param className  MATLAB's class: {@code double}, {@code uint8}, …, or {@code cell}, {@code struct}, …
     * @param dimensions its size per dimension, as MATLAB gives it (values are column-major: the first index
     *                   varies fastest)
     * @param source     the file, for messages
     * @param storedType the MAT type of the stored values (0 when there are none)
     * @param values     the stored values, in the file's byte order; null for non-numeric variables
     * @param reason     why the values are not readable (complex, sparse, …), or null
     */
    public record Variable(String name, String className, int[] dimensions, String source, int storedType,
                           ByteBuffer values, String reason) {

        /** The number of elements (product of the dimensions). */
        public long elementCount() {
            return Arrays.stream(dimensions).asLongStream().reduce(1, (a, b) -> a * b);
        }

        /**
         * The values as unsigned bytes, column-major, without conversion.
         *
         * @throws IllegalArgumentException naming the variable unless it is stored as {@code uint8}
         */
        public byte[] uint8() {
            requireNumeric();
            if (storedType != MI_UINT8) {
                throw new IllegalArgumentException(source + ": variable '" + name + "' is " + className + " stored as "
                        + "MAT type " + storedType + ", expected uint8 values");
            }
            byte[] out = new byte[values.remaining()];
            values.duplicate().get(out);
            return out;
        }

        /**
         * The values as doubles, column-major, widened from whichever type the file stores them in.
         *
         * @throws IllegalArgumentException naming the variable when it is not a real numeric array
         */
        public double[] doubles() {
            requireNumeric();
            ByteBuffer in = values.duplicate().order(values.order());
            double[] out = new double[in.remaining() / width(storedType)];
            for (int i = 0; i < out.length; i++) {
                out[i] = switch (storedType) {
                    case MI_INT8 -> in.get();
                    case MI_UINT8 -> in.get() & 0xff;
                    case MI_INT16 -> in.getShort();
                    case MI_UINT16 -> in.getShort() & 0xffff;
                    case MI_INT32 -> in.getInt();
                    case MI_UINT32 -> in.getInt() & 0xffffffffL;
                    case MI_SINGLE -> in.getFloat();
                    case MI_DOUBLE -> in.getDouble();
                    case MI_INT64, MI_UINT64 -> in.getLong();
                    default -> throw new IllegalArgumentException(source + ": variable '" + name + "' stores its "
                            + "values as MAT type " + storedType + ", not a number type");
                };
            }
            return out;
        }

        private void requireNumeric() {
            if (reason != null) {
                throw new IllegalArgumentException(source + ": variable '" + name + "' is " + reason
                        + "; only real numeric arrays are read");
            }
            long expected = elementCount();
            int width = width(storedType);
            if (width == 0) {
                throw new IllegalArgumentException(source + ": variable '" + name + "' stores its values as MAT type "
                        + storedType + ", not a number type");
            }
            if (values.remaining() != expected * width) {
                throw new IllegalArgumentException(source + ": variable '" + name + "' of size "
                        + Arrays.toString(dimensions) + " holds " + values.remaining() / width + " values, expected "
                        + expected);
            }
        }
    }

    private MatFile() {
    }

    /** Bytes per value of a numeric MAT type; 0 for a type that holds no numbers. */
    private static int width(int storedType) {
        return switch (storedType) {
            case MI_INT8, MI_UINT8 -> 1;
            case MI_INT16, MI_UINT16 -> 2;
            case MI_INT32, MI_UINT32, MI_SINGLE -> 4;
            case MI_DOUBLE, MI_INT64, MI_UINT64 -> 8;
            default -> 0;
        };
    }

    /**
     * Every variable of {@code file}, by name, in file order.
     *
     * @throws IllegalArgumentException in one line naming the file for a missing file, a MATLAB 7.3 (HDF5) or
     *                                  level-4 file, a corrupt compressed element, or a truncated one
     */
    public static Map<String, Variable> read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read MAT-file " + file + ": " + e.getMessage(), e);
        }
        return read(bytes, file.toString());
    }

    /** As {@link #read(Path)}, from the file's bytes; {@code source} names it in messages. */
    public static Map<String, Variable> read(byte[] bytes, String source) {
        String text = new String(bytes, 0, Math.min(bytes.length, 116), StandardCharsets.ISO_8859_1);
        if (text.startsWith("MATLAB 7.3")) {
            throw new IllegalArgumentException(source + " is a MATLAB 7.3 MAT-file (HDF5); this reader reads level 5 "
                    + "files (MATLAB's -v7 or -v6, SciPy's savemat)");
        }
        if (bytes.length < 128 || !text.startsWith("MATLAB 5.0 MAT-file")) {
            throw new IllegalArgumentException(source + " is not a MATLAB level 5 MAT-file (its header does not begin "
                    + "with 'MATLAB 5.0 MAT-file')");
        }
        ByteOrder order = bytes[126] == 'I' && bytes[127] == 'M' ? ByteOrder.LITTLE_ENDIAN
                : bytes[126] == 'M' && bytes[127] == 'I' ? ByteOrder.BIG_ENDIAN : null;
        if (order == null) {
            throw new IllegalArgumentException(source + ": MAT-file header has no endian mark (IM or MI)");
        }
        Map<String, Variable> variables = new LinkedHashMap<>();
        ByteBuffer in = ByteBuffer.wrap(bytes).order(order);
        in.position(128);
        try {
            while (in.remaining() >= 8) {
                int type = in.getInt();
                int count = in.getInt();
                if (count < 0 || count > in.remaining()) {
                    throw new IllegalArgumentException(source + ": data element at byte " + (in.position() - 8)
                            + " claims " + Integer.toUnsignedString(count) + " bytes, " + in.remaining()
                            + " remain (truncated file?)");
                }
                ByteBuffer element = slice(in, count);
                Variable variable = switch (type) {
                    case MI_MATRIX -> matrix(element, source);
                    case MI_COMPRESSED -> compressed(element, order, source);
                    default -> null; // other top-level elements hold no variable
                };
                if (variable != null) {
                    variables.put(variable.name(), variable);
                }
            }
        } catch (BufferUnderflowException | IndexOutOfBoundsException e) {
            throw new IllegalArgumentException(source + ": a data element is cut off (truncated file?)");
        }
        return variables;
    }

    /** A {@code miCOMPRESSED} element: zlib around one whole element (tag and data). */
    private static Variable compressed(ByteBuffer element, ByteOrder order, String source) {
        Inflater inflater = new Inflater();
        byte[] input = new byte[element.remaining()];
        element.get(input);
        inflater.setInput(input);
        try {
            byte[] tag = new byte[8];
            if (inflater.inflate(tag) != 8) {
                throw new IllegalArgumentException(source + ": a compressed element holds less than one tag");
            }
            ByteBuffer header = ByteBuffer.wrap(tag).order(order);
            int type = header.getInt();
            int count = header.getInt();
            if (type != MI_MATRIX) {
                return null;
            }
            if (count < 0) {
                throw new IllegalArgumentException(source + ": a compressed variable claims "
                        + Integer.toUnsignedString(count) + " bytes");
            }
            byte[] data = new byte[count];
            int read = 0;
            while (read < count) {
                int n = inflater.inflate(data, read, count - read);
                if (n == 0 && (inflater.finished() || inflater.needsInput())) {
                    throw new IllegalArgumentException(source + ": a compressed variable ends after " + read + " of its "
                            + count + " bytes (truncated file?)");
                }
                read += n;
            }
            return matrix(ByteBuffer.wrap(data).order(order), source);
        } catch (DataFormatException e) {
            throw new IllegalArgumentException(source + ": a compressed element is corrupt (" + e.getMessage() + ")");
        } finally {
            inflater.end();
        }
    }

    /** A {@code miMATRIX} element's body: flags, dimensions, name, then the real part. */
    private static Variable matrix(ByteBuffer body, String source) {
        Element flags = Element.next(body, source);
        int flagWord = flags.data().getInt(0);
        int classNumber = flagWord & 0xff;
        boolean complex = (flagWord & 0x800) != 0;
        String className = classNumber < CLASS_NAMES.length ? CLASS_NAMES[classNumber] : "class " + classNumber;
        Element dimensionElement = Element.next(body, source);
        int[] dimensions = new int[dimensionElement.data().remaining() / 4];
        for (int i = 0; i < dimensions.length; i++) {
            dimensions[i] = dimensionElement.data().getInt(4 * i);
        }
        Element nameElement = Element.next(body, source);
        byte[] nameBytes = new byte[nameElement.data().remaining()];
        nameElement.data().get(nameBytes);
        String name = new String(nameBytes, StandardCharsets.US_ASCII);
        String reason = classNumber < 6 || classNumber > 15 ? "a " + className + " array"
                : complex ? "a complex " + className + " array" : null;
        if (reason != null || !body.hasRemaining()) {
            return new Variable(name, className, dimensions, source, 0, ByteBuffer.allocate(0).order(body.order()),
                    reason);
        }
        Element real = Element.next(body, source);
        return new Variable(name, className, dimensions, source, real.type(), real.data(), null);
    }

    /** One data element inside a matrix: its type and its data, the buffer moved past its 8-byte padding. */
    private record Element(int type, ByteBuffer data) {
        static Element next(ByteBuffer in, String source) {
            int word = in.getInt();
            if ((word >>> 16) != 0) {
                // Small element: byte count in the upper half, type in the lower, up to 4 bytes of data inline.
                int count = word >>> 16;
                ByteBuffer data = slice(in, Math.min(count, 4));
                in.position(in.position() + 4 - Math.min(count, 4));
                return new Element(word & 0xffff, data);
            }
            int count = in.getInt();
            if (count < 0 || count > in.remaining()) {
                throw new IllegalArgumentException(source + ": a matrix part claims " + Integer.toUnsignedString(count)
                        + " bytes, " + in.remaining() + " remain");
            }
            ByteBuffer data = slice(in, count);
            in.position(Math.min(in.limit(), in.position() + (8 - count % 8) % 8));
            return new Element(word, data);
        }
    }

    /** The next {@code count} bytes of {@code in} as their own buffer (same order), {@code in} moved past them. */
    private static ByteBuffer slice(ByteBuffer in, int count) {
        ByteBuffer out = in.slice(in.position(), count).order(in.order());
        in.position(in.position() + count);
        return out;
    }
}
