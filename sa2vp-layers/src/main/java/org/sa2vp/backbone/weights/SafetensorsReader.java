package org.sa2vp.backbone.weights;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads {@code .safetensors} files (Hugging Face's format: an 8-byte little-endian header length N, N bytes of
 * JSON {@code {name: {dtype, shape, data_offsets: [begin, end]}}}, then raw little-endian data). No Java reader
 * is published on Maven Central, and the format is simple enough to parse directly. Tensors are memory-mapped
 * one at a time (so files over 2 GB work) and converted to float32; F32, F64, F16, BF16, I64, I32, I16, I8, U8
 * and BOOL are supported.
 */
public final class SafetensorsReader {

    private static final ObjectMapper JSON = new ObjectMapper();

    private SafetensorsReader() {
    }

    /** The {@code __metadata__} strings of the file (empty when absent). */
    public static Map<String, String> metadata(Path file) {
        String source = file.toString();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            JsonNode header = header(channel, source);
            Map<String, String> out = new LinkedHashMap<>();
            header.path("__metadata__").fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
            return out;
        } catch (IOException e) {
            throw new CheckpointException(source + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** The tensor names of the file, in header order, read from its header alone. */
    public static List<String> keys(Path file) {
        String source = file.toString();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            List<String> keys = new ArrayList<>();
            header(channel, source).fieldNames().forEachRemaining(name -> {
                if (!name.equals("__metadata__")) {
                    keys.add(name);
                }
            });
            return keys;
        } catch (IOException e) {
            throw new CheckpointException(source + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static JsonNode header(FileChannel channel, String source) throws IOException {
        long size = channel.size();
        if (size < 8) {
            throw new CheckpointException(source + ": " + size + " bytes is too short for a .safetensors file");
        }
        ByteBuffer lengthBuffer = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        channel.read(lengthBuffer, 0);
        long headerLength = lengthBuffer.flip().getLong();
        if (headerLength <= 0 || headerLength > size - 8 || headerLength > 100_000_000) {
            throw new CheckpointException(source + ": header length " + headerLength + " does not fit the file ("
                    + size + " bytes); the file is truncated or not .safetensors");
        }
        ByteBuffer headerBuffer = ByteBuffer.allocate((int) headerLength);
        channel.read(headerBuffer, 8);
        try {
            return JSON.readTree(new String(headerBuffer.array(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new CheckpointException(source + ": the JSON header is not valid (" + e.getMessage()
                    .lines().findFirst().orElse("") + ")");
        }
    }

    public static StateDict read(Path file) {
        String source = file.toString();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            JsonNode header = header(channel, source);
            ByteBuffer lengthBuffer = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            channel.read(lengthBuffer, 0);
            long headerLength = lengthBuffer.flip().getLong();
            long dataStart = 8 + headerLength;
            Map<String, INDArray> tensors = new LinkedHashMap<>();
            List<Map.Entry<String, JsonNode>> entries = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getKey().equals("__metadata__")) {
                    entries.add(e);
                }
            }
            // Keep the file's data order (the header's JSON order is alphabetical in real files).
            entries.sort((a, b) -> Long.compare(a.getValue().path("data_offsets").path(0).asLong(),
                    b.getValue().path("data_offsets").path(0).asLong()));
            for (Map.Entry<String, JsonNode> e : entries) {
                tensors.put(e.getKey(), readTensor(channel, source, e.getKey(), e.getValue(), dataStart, size));
            }
            return new StateDict(source, tensors);
        } catch (IOException e) {
            throw new CheckpointException(source + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static INDArray readTensor(FileChannel channel, String source, String key, JsonNode info, long dataStart,
                                       long fileSize) throws IOException {
        String dtype = info.path("dtype").asText();
        JsonNode shapeNode = info.path("shape");
        JsonNode offsets = info.path("data_offsets");
        if (!shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
            throw new CheckpointException(source + ": tensor '" + key + "' has no valid shape/data_offsets in the "
                    + "header");
        }
        long[] shape = new long[shapeNode.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shapeNode.get(i).asLong();
            count *= shape[i];
        }
        char kind;
        int itemSize;
        switch (dtype) {
            case "F32" -> { kind = 'f'; itemSize = 4; }
            case "F64" -> { kind = 'f'; itemSize = 8; }
            case "F16" -> { kind = 'f'; itemSize = 2; }
            case "BF16" -> { kind = 'B'; itemSize = 2; }
            case "I64" -> { kind = 'i'; itemSize = 8; }
            case "I32" -> { kind = 'i'; itemSize = 4; }
            case "I16" -> { kind = 'i'; itemSize = 2; }
            case "I8" -> { kind = 'i'; itemSize = 1; }
            case "U8" -> { kind = 'u'; itemSize = 1; }
            case "BOOL" -> { kind = 'b'; itemSize = 1; }
            default -> throw new CheckpointException(source + ": tensor '" + key + "' has dtype " + dtype
                    + ", expected F32, F64, F16, BF16 or an integer type");
        }
        long begin = offsets.get(0).asLong(), end = offsets.get(1).asLong();
        if (end - begin != count * itemSize) {
            throw new CheckpointException(source + ": tensor '" + key + "' spans " + (end - begin) + " bytes, "
                    + "expected " + count * itemSize + " for " + dtype + " " + java.util.Arrays.toString(shape));
        }
        if (dataStart + end > fileSize) {
            throw new CheckpointException(source + ": tensor '" + key + "' ends at byte " + (dataStart + end)
                    + " but the file has " + fileSize + " bytes; the file is truncated");
        }
        ByteBuffer data = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + begin, end - begin)
                .order(ByteOrder.LITTLE_ENDIAN);
        float[] values = NpzReader.toFloats(data, kind, itemSize, (int) count, source, key);
        return shape.length == 0 ? Nd4j.scalar(values[0]) : Nd4j.create(values, shape, 'c');
    }
}
