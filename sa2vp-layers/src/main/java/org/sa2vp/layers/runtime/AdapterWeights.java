package org.sa2vp.layers.runtime;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/** Prompt adapter parameters (or their gradients): LayerNorm, down projection {@code [D,t]}, up {@code [t,D]}. */
public record AdapterWeights(INDArray normGamma, INDArray normBeta, INDArray downW, INDArray downB,
                             INDArray upW, INDArray upB) {

    public static final String NORM_GAMMA = "normGamma";
    public static final String NORM_BETA = "normBeta";
    public static final String DOWN_W = "downW";
    public static final String DOWN_B = "downB";
    public static final String UP_W = "upW";
    public static final String UP_B = "upB";

    public static final String[] NAMES = {NORM_GAMMA, NORM_BETA, DOWN_W, DOWN_B, UP_W, UP_B};

    /** Reads {@code <prefix><Name>} entries, e.g. prefix "adapter" gives "adapterNormGamma". */
    public static AdapterWeights from(Map<String, INDArray> table, String prefix) {
        return new AdapterWeights(table.get(name(prefix, NORM_GAMMA)), table.get(name(prefix, NORM_BETA)),
                table.get(name(prefix, DOWN_W)), table.get(name(prefix, DOWN_B)), table.get(name(prefix, UP_W)),
                table.get(name(prefix, UP_B)));
    }

    /** {@code prefix + Name} in camel case; the bare name when the prefix is empty. */
    public static String name(String prefix, String name) {
        return prefix.isEmpty() ? name : prefix + Character.toUpperCase(name.charAt(0)) + name.substring(1);
    }
}
