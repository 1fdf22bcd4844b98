package org.sa2vp.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.data.InMemoryImages;
import org.sa2vp.layers.DualPathwayVertex;
import org.sa2vp.layers.runtime.AdapterWeights;
import org.sa2vp.model.DualStreamHead;
import org.sa2vp.model.Sa2vpConfig;
import org.sa2vp.model.Sa2vpEmbedding;
import org.sa2vp.model.Sa2vpModel;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * A tiny SA2VP-ViT for training tests: 16×16 images, patch 4 (4×4 grid + class token), width 16, depth 3, 2 heads,
 * MLP 32, rank 4, adapter 4, image→prompt at layer 0, a deep prompt map at layer 1, 3 classes.
 */
final class TinySa2vp {

    static final int CLASSES = 3;

    private TinySa2vp() {
    }

    static VisionTransformerConfig backbone() {
        return VisionTransformerConfig.builder().imageHeight(16).imageWidth(16).patchSize(4).hiddenSize(16).depth(3)
                .numHeads(2).mlpSize(32).build().validated();
    }

    static Sa2vpConfig config(double dropout) {
        return Sa2vpConfig.builder().backbone(backbone()).numClasses(CLASSES).promptRank(4).adapterSize(4)
                .imageToPromptLayers(List.of(0)).deepPromptLayers(List.of(1)).dropout(dropout).build().validated();
    }

    /** Random N(0,1) images and uniform labels from {@code java.util.Random(seed)} (independent of ND4J's RNG). */
    static InMemoryImages data(int n, long seed) {
        Random random = new Random(seed);
        float[] values = new float[n * 3 * 16 * 16];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = random.nextInt(CLASSES);
        }
        return new InMemoryImages(Nd4j.create(values, new long[]{n, 3, 16, 16}, DataType.FLOAT), labels);
    }

    /** {@code vertex_param} keys of the SA2VP trainable parameters (prompts, adapters, deep maps, head). */
    static Set<String> trainableKeys(Sa2vpConfig config) {
        Set<String> keys = new LinkedHashSet<>();
        for (String p : List.of(Sa2vpEmbedding.PROMPT_FACTORS, Sa2vpEmbedding.PROMPT_PROJ_W,
                Sa2vpEmbedding.PROMPT_PROJ_B)) {
            keys.add(Sa2vpModel.EMBEDDINGS + "_" + p);
        }
        for (int i = 0; i < config.getBackbone().getDepth(); i++) {
            for (String p : AdapterWeights.NAMES) {
                keys.add(Sa2vpModel.layer(i) + "_" + AdapterWeights.name(DualPathwayVertex.ADAPTER, p));
            }
        }
        for (int l : config.getDeepPromptLayers()) {
            for (String p : List.of(DualPathwayVertex.DEEP_FACTORS, DualPathwayVertex.DEEP_PROJ_W,
                    DualPathwayVertex.DEEP_PROJ_B, DualPathwayVertex.DEEP_SCALE)) {
                keys.add(Sa2vpModel.layer(l) + "_" + p);
            }
        }
        keys.add(Sa2vpModel.HEAD + "_" + DualStreamHead.HEAD_W);
        keys.add(Sa2vpModel.HEAD + "_" + DualStreamHead.HEAD_B);
        return keys;
    }

    /** A copy of every parameter of every layer and vertex, as {@code vertex_param}. */
    static Map<String, INDArray> allParameters(ComputationGraph graph) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (GraphVertex v : graph.getVertices()) {
            Map<String, INDArray> table = v.hasLayer() ? v.getLayer().paramTable() : v.paramTable(false);
            if (table != null) {
                table.forEach((k, a) -> out.put(v.getVertexName() + "_" + k, a.dup()));
            }
        }
        return out;
    }

    /** Stops the trainer at the given (0-based epoch, 1-based iteration) point. */
    static Trainer.Listener stopAt(int epoch, int iteration) {
        return new Trainer.Listener() {
            @Override
            public void iterationDone(Trainer trainer, int e, int it, double loss) {
                if (e == epoch && it == iteration) {
                    trainer.requestStop();
                }
            }
        };
    }
}
