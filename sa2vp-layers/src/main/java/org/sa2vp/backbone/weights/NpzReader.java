package org.sa2vp.backbone.weights;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads NumPy {@code .npy} arrays and {@code .npz} archives in Java, without ND4J's native reader: that one
 * rejects {@code np.savez_compressed} archives, reads Fortran-order {@code .npy} files transposed without
 * warning, and aborts the JVM on big-endian data ({@code docs/DL4J-NOTES.md} §2). Here compressed and stored archives,
 * either byte order, C and Fortran order, and float16/32/64, (u)int8/16/32/64 and bool are read; every array
 * becomes a float32 C-order INDArray with the file's shape. Anything else gives a one-line
 * {@link CheckpointException} naming the file and the array.
 */
public final class NpzReader {

    private static final byte[] NPY_MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([<>|=])([a-z])(\\d+)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private NpzReader() {
    }

    /** All arrays of an {@code .npz}, keyed without the {@code .npy} suffix, in archive order. */
    public static StateDict readNpz(Path file) {
        String source = file.toString();
        Map<String, INDArray> arrays = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry entry = entries.nextElement();
                if (entry.isDirectory()) {
                    continue;
                }
                String name = entry.getName();
                if (!name.endsWith(".npy")) {
                    throw new CheckpointException(source + ": entry '" + name + "' is not a .npy array; expected an "
                            + ".npz written by numpy.savez" + (name.endsWith(".pkl") ? " (this looks like a PyTorch"
                            + " torch.save checkpoint: read it with PthReader)" : ""));
                }
                String key = name.substring(0, name.length() - 4);
                try (InputStream in = zip.getInputStream(entry)) {
                    arrays.put(key, readArray(in, source, key));
                } catch (ZipException | EOFException e) {
                    throw new CheckpointException(source + ": array '" + key + "' is truncated or corrupt ("
                            + e.getMessage() + "); the file may be incomplete");
                }
            }
        } catch (ZipException e) {
            throw new CheckpointException(source + ": not a readable .npz (zip) archive (" + e.getMessage()
                    + "); the file may be truncated", e);
        } catch (IOException e) {
            throw new CheckpointException(source + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (arrays.isEmpty()) {
            throw new CheckpointException(source + ": the .npz archive holds no arrays");
        }
        return new StateDict(source, arrays);
    }

    /** The array names of an {@code .npz} (without {@code .npy}), in archive order, read from its directory alone. */
    public static List<String> keys(Path file) {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            return zip.stream().map(ZipEntry::getName).filter(name -> name.endsWith(".npy"))
                    .map(name -> name.substring(0, name.length() - 4)).toList();
        } catch (IOException e) {
            throw new CheckpointException(file + ": not a readable .npz (zip) archive (" + e.getMessage() + ")", e);
        }
    }

    /** One {@code .npy} file. */
    public static INDArray readNpy(Path file) {
        String source = file.toString();
        try (InputStream in = Files.newInputStream(file)) {
            return readArray(in, source, file.getFileName().toString());
        } catch (EOFException e) {
            throw new CheckpointException(source + ": truncated .npy file");
        } catch (IOException e) {
            throw new CheckpointException(source + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** What a {@code .npy} header says about its array. */
    private record NpyHeader(ByteOrder order, char kind, int itemSize, boolean fortran, long[] shape) {

        /** NumPy's name of the dtype: {@code float32}, {@code uint8}, {@code int64}, {@code bool}, ... */
        String dtype() {
            return switch (kind) {
                case 'f' -> "float" + 8 * itemSize;
                case 'i' -> "int" + 8 * itemSize;
                case 'u' -> "uint" + 8 * itemSize;
                case 'b' -> "bool";
                default -> kind + Integer.toString(itemSize);
            };
        }
    }

    /**
     * The NumPy dtype of a {@code .npy} file, e.g. {@code float32} or {@code uint8}, from its header ({@link
     * #readNpy} converts every numeric dtype to float32, so a caller that must refuse integer pixels asks here).
     */
    public static String npyDtype(Path file) {
        String source = file.toString();
        try (InputStream in = Files.newInputStream(file)) {
            return readHeader(new DataInputStream(in), source, file.getFileName().toString()).dtype();
        } catch (NoSuchFileException e) {
            throw new CheckpointException(source + ": no such file");
        } catch (EOFException e) {
            throw new CheckpointException(source + ": truncated .npy file");
        } catch (IOException e) {
            throw new CheckpointException(source + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static NpyHeader readHeader(DataInputStream in, String source, String key) throws IOException {
        byte[] magic = new byte[6];
        in.readFully(magic);
        if (!Arrays.equals(magic, NPY_MAGIC)) {
            throw new CheckpointException(source + ": array '" + key + "' is not in .npy format (bad magic bytes)");
        }
        int major = in.readUnsignedByte();
        in.readUnsignedByte();
        byte[] lengthBytes = new byte[major == 1 ? 2 : 4];
        in.readFully(lengthBytes);
        long headerLength = 0;
        for (int i = lengthBytes.length - 1; i >= 0; i--) {
            headerLength = (headerLength << 8) | (lengthBytes[i] & 0xFF);
        }
        byte[] headerBytes = new byte[(int) headerLength];
        in.readFully(headerBytes);
        String header = new String(headerBytes, StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header);
        Matcher f = FORTRAN.matcher(header);
        Matcher s = SHAPE.matcher(header);
        if (!d.find() || !f.find() || !s.find()) {
            throw new CheckpointException(source + ": array '" + key + "' has an unsupported .npy header "
                    + header.trim() + " (expected a plain numeric dtype)");
        }
        return new NpyHeader(d.group(1).equals(">") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN,
                d.group(2).charAt(0), Integer.parseInt(d.group(3)), f.group(1).equals("True"),
                parseShape(s.group(1)));
    }

    private static INDArray readArray(InputStream raw, String source, String key) throws IOException {
        DataInputStream in = new DataInputStream(raw);
        NpyHeader header = readHeader(in, source, key);
        ByteOrder order = header.order();
        char kind = header.kind();
        int itemSize = header.itemSize();
        boolean fortran = header.fortran();
        long[] shape = header.shape();
        long count = 1;
        for (long dim : shape) {
            count *= dim;
        }
        if (count > Integer.MAX_VALUE / Math.max(itemSize, 1)) {
            throw new CheckpointException(source + ": array '" + key + "' has " + count + " elements, more than one "
                    + "Java array can hold");
        }
        byte[] data = new byte[(int) (count * itemSize)];
        in.readFully(data);
        float[] values = toFloats(ByteBuffer.wrap(data).order(order), kind, itemSize, (int) count, source, key);
        if (shape.length == 0) {
            return Nd4j.scalar(values[0]);
        }
        return fortran ? Nd4j.create(values, shape, 'f').dup('c') : Nd4j.create(values, shape, 'c');
    }

    private static long[] parseShape(String text) {
        List<Long> dims = new ArrayList<>();
        for (String part : text.split(",")) {
            if (!part.isBlank()) {
                dims.add(Long.parseLong(part.trim().replace("L", "")));
            }
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * Converts raw elements to float32: NumPy's kind ({@code f}, {@code i}, {@code u}, {@code b} for bool) and item
     * size, plus kind {@code B} for bfloat16 (2 bytes), which NumPy lacks and safetensors and PyTorch store.
     */
    static float[] toFloats(ByteBuffer buffer, char kind, int itemSize, int count, String source, String key) {
        float[] out = new float[count];
        switch (kind + Integer.toString(itemSize)) {
            case "f4" -> buffer.asFloatBuffer().get(out);
            case "B2" -> {
                // bfloat16 is the upper half of a float32.
                for (int i = 0; i < count; i++) {
                    out[i] = Float.intBitsToFloat((buffer.getShort() & 0xFFFF) << 16);
                }
            }
            case "f8" -> {
                for (int i = 0; i < count; i++) {
                    out[i] = (float) buffer.getDouble();
                }
            }
            case "f2" -> {
                for (int i = 0; i < count; i++) {
                    out[i] = halfToFloat(buffer.getShort());
                }
            }
            case "i8" -> {
                for (int i = 0; i < count; i++) {
                    out[i] = buffer.getLong();
                }
            }
            case "i4" -> {
                for (int i = 0; i < count; i++) {
                    out[i] = buffer.getInt();
                }
            }
            case "i2" -> {
                for (int i = 0; i < count; i++) {
                    out[i] = buffer.getShort();
                }
            }
            case "i1" -> {
                for (int i = 0; i < count; i++) {
                    out[i] = buffer.get();
                }
            }
            case "u1", "b1" -> {
                for (int i = 0; i < count; i++) {
                    out[i] = buffer.get() & 0xFF;
                }
            }
            case "u2" -> {
                for (int i = 0; i < count; i++) {
                    out[i] = buffer.getShort() & 0xFFFF;
                }
            }
            case "u4" -> {
                for (int i = 0; i < count; i++) {
                    out[i] = buffer.getInt() & 0xFFFFFFFFL;
                }
            }
            default -> throw new CheckpointException(source + ": array '" + key + "' has dtype " + kind + itemSize
                    + ", expected a float, integer or bool array");
        }
        return out;
    }

    /** IEEE 754 half → float (Java 17 has no {@code Float.float16ToFloat}). */
    static float halfToFloat(short half) {
        int bits = half & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1F;
        int mantissa = bits & 0x3FF;
        if (exponent == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            if (mantissa == 0) {
                return Float.intBitsToFloat(sign);
            }
            float value = mantissa / 1024.0f * (float) Math.pow(2, -14);
            return sign == 0 ? value : -value;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }
}
