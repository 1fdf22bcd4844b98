package org.sa2vp.backbone.weights;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Checkpoint file formats, recognised from the file's first bytes (the extension is only a tie-breaker). */
public enum CheckpointFormat {
    /** NumPy archive: Google's ViT checkpoints, or a PyTorch state dict saved with {@code numpy.savez}. */
    NPZ,
    /** Hugging Face safetensors. */
    SAFETENSORS,
    /** An ONNX model (weights read from its initializers). */
    ONNX,
    /** A Keras HDF5 model. */
    KERAS_H5;

    /** Detects the format of {@code file}, or fails with a one-line message that says what the file seems to be. */
    public static CheckpointFormat detect(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(file + ": no such file");
        }
        byte[] head = new byte[16];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        String name = file.getFileName().toString().toLowerCase();
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            if (name.endsWith(".pth") || name.endsWith(".pt") || name.endsWith(".bin") || name.endsWith(".ckpt")) {
                throw new CheckpointException(file + ": a PyTorch pickle checkpoint cannot be read safely outside "
                        + "Python; save its state_dict as .safetensors or with numpy.savez and load that");
            }
            return NPZ;
        }
        if (n >= 8 && (head[0] & 0xFF) == 0x89 && head[1] == 'H' && head[2] == 'D' && head[3] == 'F') {
            return KERAS_H5;
        }
        if (n >= 6 && (head[0] & 0xFF) == 0x93 && head[1] == 'N') {
            throw new CheckpointException(file + ": a single .npy array is not a checkpoint; expected .npz, "
                    + ".safetensors, .onnx or .h5");
        }
        if (n >= 9) {
            long headerLength = ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (headerLength > 0 && headerLength < (1L << 31) && head[8] == '{') {
                return SAFETENSORS;
            }
        }
        if (name.endsWith(".onnx") || (n > 0 && head[0] == 0x08)) {
            // An ONNX ModelProto starts with field 1 (ir_version, varint): tag byte 0x08.
            return ONNX;
        }
        throw new CheckpointException(file + ": unknown checkpoint format; expected a .npz, .safetensors, .onnx "
                + "or Keras .h5 file");
    }
}
