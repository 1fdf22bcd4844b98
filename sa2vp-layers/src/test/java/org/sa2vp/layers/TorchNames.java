package org.sa2vp.layers;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How the PyTorch reference names the parameters of each layer, and which ones are stored {@code [out, in]}
 * (transposed relative to our {@code [in, out]}). Used by the parity tests to load fixtures.
 */
final class TorchNames {

    /** Our name → {torch name, "T" when the torch tensor is the transpose of ours}. */
    static final Map<String, String[]> CROSS_ATTENTION = new LinkedHashMap<>();
    static final Map<String, String[]> ADAPTER = new LinkedHashMap<>();
    static final Map<String, String[]> FUSION = new LinkedHashMap<>();
    static final Map<String, String[]> DUAL_PATHWAY = new LinkedHashMap<>();

    static {
        attention(CROSS_ATTENTION, "norm", "", "norm");
        adapter(ADAPTER, "", "");
        FUSION.put("scale", new String[]{"scale", ""});
        attention(DUAL_PATHWAY, "norm1", "attn.", "norm1");
        DUAL_PATHWAY.put("outW", new String[]{"attn.proj.weight", "T"});
        DUAL_PATHWAY.put("outB", new String[]{"attn.proj.bias", ""});
        DUAL_PATHWAY.put("norm2Gamma", new String[]{"norm2.weight", ""});
        DUAL_PATHWAY.put("norm2Beta", new String[]{"norm2.bias", ""});
        DUAL_PATHWAY.put("fc1W", new String[]{"mlp.fc1.weight", "T"});
        DUAL_PATHWAY.put("fc1B", new String[]{"mlp.fc1.bias", ""});
        DUAL_PATHWAY.put("fc2W", new String[]{"mlp.fc2.weight", "T"});
        DUAL_PATHWAY.put("fc2B", new String[]{"mlp.fc2.bias", ""});
        adapter(DUAL_PATHWAY, "adapter", "adapter.");
        DUAL_PATHWAY.put("deepFactors", new String[]{"deep.factors", ""});
        DUAL_PATHWAY.put("deepProjW", new String[]{"deep.proj.weight", "T"});
        DUAL_PATHWAY.put("deepProjB", new String[]{"deep.proj.bias", ""});
        DUAL_PATHWAY.put("deepScale", new String[]{"deep.scale", ""});
    }

    private static void attention(Map<String, String[]> m, String ourNorm, String torchPrefix, String torchNorm) {
        m.put(ourNorm + "Gamma", new String[]{torchNorm + ".weight", ""});
        m.put(ourNorm + "Beta", new String[]{torchNorm + ".bias", ""});
        for (String[] p : new String[][]{{"query", "q"}, {"key", "k"}, {"value", "v"}, {"out", "out"}}) {
            m.put(p[0] + "W", new String[]{torchPrefix + p[1] + ".weight", "T"});
            m.put(p[0] + "B", new String[]{torchPrefix + p[1] + ".bias", ""});
        }
    }

    private static void adapter(Map<String, String[]> m, String ourPrefix, String torchPrefix) {
        String p = ourPrefix;
        m.put(name(p, "normGamma"), new String[]{torchPrefix + "norm.weight", ""});
        m.put(name(p, "normBeta"), new String[]{torchPrefix + "norm.bias", ""});
        m.put(name(p, "downW"), new String[]{torchPrefix + "fc1.weight", "T"});
        m.put(name(p, "downB"), new String[]{torchPrefix + "fc1.bias", ""});
        m.put(name(p, "upW"), new String[]{torchPrefix + "fc2.weight", "T"});
        m.put(name(p, "upB"), new String[]{torchPrefix + "fc2.bias", ""});
    }

    private static String name(String prefix, String n) {
        return prefix.isEmpty() ? n : prefix + Character.toUpperCase(n.charAt(0)) + n.substring(1);
    }

    private TorchNames() {
    }
}
