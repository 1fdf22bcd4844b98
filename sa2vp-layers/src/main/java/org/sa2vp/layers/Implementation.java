package org.sa2vp.layers;

/** How a layer computes its forward and backward pass at run time. */
public enum Implementation {
    /**
     * Hand-written forward and backward on ND4J GEMMs plus a windowed attention kernel: no weight
     * gradient for frozen weights, O(tokens·c²·d) local attention, dropout as configured. The default.
     */
    FAST,
    /**
     * The layer's SameDiff definition run by DL4J (with the M2.1 doubled-gradient fix): the checked
     * reference. It computes the deterministic (evaluation) function, dense masked attention, and weight
     * gradients for every parameter; it cannot apply dropout.
     */
    SAMEDIFF
}
