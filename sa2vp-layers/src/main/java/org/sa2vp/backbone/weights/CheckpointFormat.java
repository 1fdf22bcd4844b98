package org.sa2vp.backbone.weights;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.ZipFile;

/** Checkpoint file formats, recognised from the file's first bytes (the extension is only a tie-breaker). */
public enum CheckpointFormat {
    /** NumPy archive: Google's ViT checkpoints, or a PyTorch state dict saved with {@code numpy.savez}. */
    NPZ,
    /** Hugging Face safetensors. */
    SAFETENSORS,
    /** An ONNX model (weights read from its initializers). */
    ONNX,
    /** A Keras HDF5 model. */
    KERAS_H5,
    /**
     * A PyTorch {@code torch.save} checkpoint ({@code .pth}, {@code .pt}, {@code .bin}), zip or legacy form, read by
     * {@link PthReader} without running its pickled code.
     */
    PTH;

    private static final String UNKNOWN = "; expected a .npz, .safetensors, torch.save .pth, .onnx or Keras .h5 file";

    /** Detects the format of {@code file}, or fails with a one-line message that says what the file seems to be. */
    public static CheckpointFormat detect(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(file + ": no such file");
        }
        // Enough for a zip's first local header with its entry name (30 bytes + the name).
        byte[] head = new byte[512];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        String name = file.getFileName().toString().toLowerCase();
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            return holdsTorchPickle(file, head, n) ? PTH : NPZ;
        }
        if (n >= 8 && (head[0] & 0xFF) == 0x89 && head[1] == 'H' && head[2] == 'D' && head[3] == 'F') {
            return KERAS_H5;
        }
        if (n >= 6 && (head[0] & 0xFF) == 0x93 && head[1] == 'N') {
            throw new CheckpointException(file + ": a single .npy array is not a checkpoint" + UNKNOWN);
        }
        if (n >= LEGACY_HEAD.length && Arrays.equals(head, 0, LEGACY_HEAD.length, LEGACY_HEAD, 0, LEGACY_HEAD.length)) {
            return PTH;
        }
        if (n >= 9) {
            long headerLength = ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (headerLength > 0 && headerLength < (1L << 31) && head[8] == '{') {
                return SAFETENSORS;
            }
        }
        if (n >= 2 && (head[0] & 0xFF) == 0x80 && head[1] >= 2 && head[1] <= 5) {
            throw new CheckpointException(file + ": a Python pickle that torch.save did not write (it does not start "
                    + "with torch's magic number)" + UNKNOWN);
        }
        if (name.endsWith(".onnx") || (n > 0 && head[0] == 0x08)) {
            // An ONNX ModelProto starts with field 1 (ir_version, varint): tag byte 0x08.
            return ONNX;
        }
        throw new CheckpointException(file + ": unknown checkpoint format" + UNKNOWN);
    }

    /** The number the legacy {@code torch.save} form pickles first. */
    static final BigInteger TORCH_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);

    /** That first pickle as torch writes it: protocol 2, {@code LONG1} of 10 bytes (little-endian), {@code STOP}. */
    private static final byte[] LEGACY_HEAD = new byte[15];

    static {
        byte[] bigEndian = TORCH_MAGIC.toByteArray();
        byte[] head = {(byte) 0x80, 2, (byte) 0x8a, 10};
        System.arraycopy(head, 0, LEGACY_HEAD, 0, head.length);
        for (int i = 0; i < 10; i++) {
            LEGACY_HEAD[head.length + i] = bigEndian[bigEndian.length - 1 - i];
        }
        LEGACY_HEAD[14] = '.';
    }

    /**
     * Whether a zip is {@code torch.save}'s ({@code <root>/data.pkl}, which torch writes first) rather than an
     * {@code .npz} ({@code <name>.npy} entries): from the first entry's name, else from the central directory. A zip
     * whose directory cannot be read either is left to the {@code .npz} reader to report.
     */
    private static boolean holdsTorchPickle(Path file, byte[] head, int n) {
        // Local file header: name length at byte 26, extra length at 28, the name from byte 30.
        int nameLength = n >= 30 ? (head[26] & 0xFF) | (head[27] & 0xFF) << 8 : Integer.MAX_VALUE;
        if (30 + nameLength <= n && isTorchPickle(new String(head, 30, nameLength, StandardCharsets.UTF_8))) {
            return true;
        }
        try (ZipFile zip = new ZipFile(file.toFile())) {
            return zip.stream().anyMatch(entry -> isTorchPickle(entry.getName()));
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether a zip entry is {@code torch.save}'s pickle, {@code <root>/data.pkl}. */
    static boolean isTorchPickle(String entryName) {
        return entryName.endsWith("/data.pkl") && entryName.indexOf('/') == entryName.length() - "/data.pkl".length();
    }
}
