package org.sa2vp.layers;

/** Which stream a dual-pathway layer's cross attention reads from and which one it updates. */
public enum InteractionDirection {
    /** Prompt queries attend to image keys; the result is added to the prompt stream (layers 0, 4, 8). */
    IMAGE_TO_PROMPT,
    /** Image queries attend to prompt keys; the result is added to the image stream (all other layers). */
    PROMPT_TO_IMAGE
}
