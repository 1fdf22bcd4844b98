package org.sa2vp.backbone.weights;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes float32 tensors as {@code .safetensors} (readable by Hugging Face's library and {@link SafetensorsReader}),
 * with optional string metadata. Written to a temporary sibling and renamed into place.
 */
public final class SafetensorsWriter {

    private static final ObjectMapper JSON = new ObjectMapper();

    private SafetensorsWriter() {
    }

    public static void write(Path file, Map<String, INDArray> tensors, Map<String, String> metadata) {
        // Sorted by name, as the reference implementation does.
        Map<String, INDArray> sorted = new TreeMap<>(tensors);
        ObjectNode header = JSON.createObjectNode();
        ObjectNode meta = header.putObject("__metadata__");
        metadata.forEach(meta::put);
        List<float[]> data = new ArrayList<>();
        long offset = 0;
        for (Map.Entry<String, INDArray> e : sorted.entrySet()) {
            INDArray t = e.getValue().castTo(DataType.FLOAT).dup('c');
            float[] values = t.length() == 0 ? new float[0] : t.data().asFloat();
            ObjectNode info = header.putObject(e.getKey());
            info.put("dtype", "F32");
            var shape = info.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            var offsets = info.putArray("data_offsets");
            offsets.add(offset);
            offset += 4L * values.length;
            offsets.add(offset);
            data.add(values);
        }
        byte[] headerBytes;
        try {
            String text = JSON.writeValueAsString(header);
            text = text + " ".repeat((8 - text.getBytes(StandardCharsets.UTF_8).length % 8) % 8);
            headerBytes = text.getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path absolute = file.toAbsolutePath();
        Path temp = absolute.resolveSibling(absolute.getFileName() + ".tmp");
        try {
            if (absolute.getParent() != null) {
                Files.createDirectories(absolute.getParent());
            }
            try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(temp), 1 << 20)) {
                out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(headerBytes.length).array());
                out.write(headerBytes);
                for (float[] values : data) {
                    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                    b.asFloatBuffer().put(values);
                    out.write(b.array());
                }
            }
            Files.move(temp, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** The {@code __metadata__} strings of a safetensors file. */
    public static Map<String, String> readMetadata(Path file) {
        return SafetensorsReader.metadata(file);
    }
}
