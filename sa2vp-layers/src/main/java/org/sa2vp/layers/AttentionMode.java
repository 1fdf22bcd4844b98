package org.sa2vp.layers;

/** Which keys a query of the cross attention may see. */
public enum AttentionMode {
    /** SA2VP: a c×c window centred at the spatially corresponding key position, clipped at the border. */
    LOCAL,
    /** Every query attends to every key: the paper's "w/o spatial alignment" ablation. */
    GLOBAL
}
