package org.sa2vp.layers;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

/** Tiny configurations of every layer for gradient checks, freezing and serialisation tests. */
final class TinyLayers {

    static final int D = 8;
    static final int HEADS = 2;

    private TinyLayers() {
    }

    /** A named tiny block: its configuration and the token counts of its inputs. */
    record Case(String name, Object block, long[] tokens) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Case[] all(Implementation impl, boolean freeze, double dropout) {
        SpatiallyAlignedCrossAttention local = new SpatiallyAlignedCrossAttention.Builder().hiddenSize(D)
                .numHeads(HEADS).queryGrid(2, 3).keyGrid(3, 4).classToken(true).dropout(dropout)
                .implementation(impl).freezeBackboneWeights(freeze).build();
        SpatiallyAlignedCrossAttention global = new SpatiallyAlignedCrossAttention.Builder().hiddenSize(D)
                .numHeads(HEADS).queryGrid(2, 2).classToken(true).mode(AttentionMode.GLOBAL).dropout(dropout)
                .implementation(impl).freezeBackboneWeights(freeze).build();
        PromptAdapter adapter = new PromptAdapter.Builder().hiddenSize(D).adapterSize(3).dropout(dropout)
                .implementation(impl).build();
        PromptFusion fusion = new PromptFusion(D);
        fusion.setImplementation(impl);
        DualPathwayVertex i2pDeep = new DualPathwayVertex.Builder().hiddenSize(D).numHeads(HEADS).mlpSize(12)
                .imageGrid(2, 2).classToken(true).direction(InteractionDirection.IMAGE_TO_PROMPT).gamma(0.7)
                .adapterSize(2).deepPrompt(true).deepPromptRank(2).dropout(dropout).implementation(impl)
                .freezeBackboneWeights(freeze).build();
        DualPathwayVertex p2iScaled = new DualPathwayVertex.Builder().hiddenSize(D).numHeads(HEADS).mlpSize(12)
                .imageGrid(3, 2).promptGrid(2, 1).classToken(false).direction(InteractionDirection.PROMPT_TO_IMAGE)
                .gamma(0.7).adapterSize(2).dropout(dropout).implementation(impl).freezeBackboneWeights(freeze)
                .build();
        DualPathwayVertex noAdapter = new DualPathwayVertex.Builder().hiddenSize(D).numHeads(HEADS).mlpSize(12)
                .imageGrid(2, 2).classToken(true).direction(InteractionDirection.PROMPT_TO_IMAGE).gamma(0.7)
                .adapter(false).dropout(dropout).implementation(impl).freezeBackboneWeights(freeze).build();
        return new Case[]{
                new Case("crossAttentionLocal", local, new long[]{7, 13}),
                new Case("crossAttentionGlobal", global, new long[]{5, 5}),
                new Case("promptAdapter", adapter, new long[]{5}),
                new Case("promptFusion", fusion, new long[]{5, 5}),
                new Case("dualPathwayImageToPromptDeep", i2pDeep, new long[]{10}),
                new Case("dualPathwayPromptToImageScaled", p2iScaled, new long[]{8}),
                new Case("dualPathwayWithoutAdapter", noAdapter, new long[]{10})};
    }

    static Harness harness(Case c, DataType dataType, org.nd4j.linalg.learning.config.IUpdater updater) {
        Harness h = Harness.of(c.block(), dataType, updater, D, c.tokens());
        randomise(h.params());
        return h;
    }

    /** Random values of unit-ish scale in every parameter so that every term of the layer matters. */
    static void randomise(Map<String, INDArray> params) {
        Nd4j.getRandom().setSeed(11);
        for (Map.Entry<String, INDArray> e : params.entrySet()) {
            INDArray p = e.getValue();
            INDArray r = Nd4j.randn(p.dataType(), p.shape()).muli(0.4);
            if (e.getKey().endsWith("Gamma")) {
                r.addi(1.0);
            }
            p.assign(r);
        }
    }

    static INDArray[] inputs(Case c, DataType dataType, long batch, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray[] in = new INDArray[c.tokens().length];
        for (int i = 0; i < in.length; i++) {
            in[i] = Nd4j.randn(dataType, batch, c.tokens()[i], D);
        }
        return in;
    }

    /** Regression targets for the harness's MSE loss over the flattened tokens, {@code [B·T, D]}. */
    static INDArray labels(Case c, DataType dataType, long batch) {
        return Nd4j.randn(dataType, batch * c.tokens()[0], D);
    }
}
