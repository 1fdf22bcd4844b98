package org.sa2vp.backbone.weights;

/**
 * A checkpoint that cannot be used as it is. The message is one line that names the file, and where it applies
 * the key and the expected versus actual shape, e.g.
 * {@code vit.safetensors: key 'blocks.0.attn.qkv.weight' has shape [96, 32], expected [96, 64]}.
 */
public class CheckpointException extends RuntimeException {

    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
