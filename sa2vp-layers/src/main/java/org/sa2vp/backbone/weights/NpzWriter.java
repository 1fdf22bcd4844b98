package org.sa2vp.backbone.weights;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes float32 arrays as NumPy {@code .npy} / uncompressed {@code .npz} (what {@code numpy.savez} writes;
 * {@code numpy.load} reads it). Files are written to a temporary sibling and renamed into place, so a crash never
 * leaves a half-written file under the final name.
 */
public final class NpzWriter {

    private NpzWriter() {
    }

    public static void writeNpz(Path file, Map<String, INDArray> arrays) {
        atomically(file, out -> {
            try (ZipOutputStream zip = new ZipOutputStream(out)) {
                for (Map.Entry<String, INDArray> e : arrays.entrySet()) {
                    zip.putNextEntry(new ZipEntry(e.getKey() + ".npy"));
                    zip.write(npyBytes(e.getValue()));
                    zip.closeEntry();
                }
            }
        });
    }

    public static void writeNpy(Path file, INDArray array) {
        atomically(file, out -> out.write(npyBytes(array)));
    }

    /** The {@code .npy} v1.0 encoding of {@code array} as little-endian float32, C order. */
    public static byte[] npyBytes(INDArray array) {
        INDArray a = array.castTo(DataType.FLOAT).dup('c');
        long[] shape = a.shape();
        String dims = LongStream.of(shape).mapToObj(Long::toString).collect(Collectors.joining(", "));
        String header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + (shape.length == 1 ? "," : "")
                + "), }";
        int unpadded = 10 + header.length() + 1;
        header = header + " ".repeat((64 - unpadded % 64) % 64) + "\n";
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.writeBytes(new byte[]{(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        bytes.write(header.length() & 0xFF);
        bytes.write((header.length() >> 8) & 0xFF);
        bytes.writeBytes(header.getBytes(StandardCharsets.ISO_8859_1));
        float[] values = a.length() == 0 ? new float[0] : a.data().asFloat();
        ByteBuffer data = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        data.asFloatBuffer().put(values);
        bytes.writeBytes(data.array());
        return bytes.toByteArray();
    }

    interface Body {
        void write(OutputStream out) throws IOException;
    }

    private static void atomically(Path file, Body body) {
        Path absolute = file.toAbsolutePath();
        Path temp = absolute.resolveSibling(absolute.getFileName() + ".tmp");
        try {
            if (absolute.getParent() != null) {
                Files.createDirectories(absolute.getParent());
            }
            try (OutputStream out = Files.newOutputStream(temp)) {
                body.write(out);
            }
            Files.move(temp, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
