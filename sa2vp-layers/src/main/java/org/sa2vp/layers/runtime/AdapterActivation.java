package org.sa2vp.layers.runtime;

/** Activation of the prompt adapter's bottleneck. */
public enum AdapterActivation {
    /** Exact (erf) GELU: what the authors' code uses. */
    GELU,
    /** ReLU: what the paper's text says. */
    RELU
}
