package org.sa2vp.backbone;

import org.sa2vp.backbone.weights.StateDict;

/**
 * Pretrained weights of one backbone family, read from a file by {@link BackboneFamily#read}: the architecture
 * they imply (options applied) and the tensors under the family's canonical names.
 */
public interface BackboneCheckpoint {

    /** The architecture of the weights, with the reading options applied (image size, heads). */
    Backbone config();

    /** The tensors under the family's canonical names (for the ViT: timm's). */
    StateDict weights();

    /** Where the weights came from, for messages. */
    default String source() {
        return weights().source();
    }
}
