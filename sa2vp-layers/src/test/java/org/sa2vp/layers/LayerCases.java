package org.sa2vp.layers;

import org.sa2vp.layers.runtime.AdapterActivation;

import java.util.Locale;

/** Builds each layer's configuration from a PyTorch fixture's JSON, with dropout off (deterministic). */
final class LayerCases {

    private LayerCases() {
    }

    static SpatiallyAlignedCrossAttention crossAttention(Fixture f, Implementation impl, boolean freeze) {
        TokenGrid q = f.grid("queryGrid"), k = f.grid("keyGrid");
        return new SpatiallyAlignedCrossAttention.Builder().hiddenSize(f.integer("hiddenSize"))
                .numHeads(f.integer("numHeads")).windowSize(f.integer("windowSize"))
                .queryGrid(q.getHeight(), q.getWidth()).keyGrid(k.getHeight(), k.getWidth())
                .classToken(f.config.get("classToken").asBoolean())
                .mode(AttentionMode.valueOf(f.config.get("mode").asText().toUpperCase(Locale.ROOT)))
                .layerNormEps(f.config.get("layerNormEps").asDouble()).dropout(0).implementation(impl)
                .freezeBackboneWeights(freeze).build();
    }

    static PromptAdapter adapter(Fixture f, Implementation impl) {
        return new PromptAdapter.Builder().hiddenSize(f.integer("hiddenSize")).adapterSize(f.integer("adapterSize"))
                .activation(AdapterActivation.valueOf(f.config.get("activation").asText().toUpperCase(Locale.ROOT)))
                .layerNormEps(f.config.get("layerNormEps").asDouble()).dropout(0).implementation(impl).build();
    }

    static PromptFusion fusion(Fixture f, Implementation impl) {
        PromptFusion fusion = new PromptFusion(f.integer("hiddenSize"));
        fusion.setImplementation(impl);
        return fusion;
    }

    static DualPathwayVertex dualPathway(Fixture f, Implementation impl, boolean freeze) {
        TokenGrid image = f.grid("imageGrid"), prompt = f.grid("promptGrid");
        return new DualPathwayVertex.Builder().hiddenSize(f.integer("hiddenSize")).numHeads(f.integer("numHeads"))
                .mlpSize(f.integer("mlpSize")).windowSize(f.integer("windowSize"))
                .imageGrid(image.getHeight(), image.getWidth()).promptGrid(prompt.getHeight(), prompt.getWidth())
                .classToken(f.config.get("classToken").asBoolean())
                .direction(InteractionDirection.valueOf(f.config.get("direction").asText().toUpperCase(Locale.ROOT)))
                .gamma(f.config.get("gamma").asDouble()).adapterSize(f.integer("adapterSize"))
                .deepPrompt(f.config.get("deepPrompt").asBoolean())
                .deepPromptRank(f.config.get("deepPrompt").asBoolean() ? f.integer("deepPromptRank") : 16)
                .layerNormEps(f.config.get("layerNormEps").asDouble()).dropout(0).implementation(impl)
                .freezeBackboneWeights(freeze).build();
    }
}
