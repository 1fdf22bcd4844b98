package org.sa2vp.model;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.backbone.weights.StateDict;
import org.sa2vp.layers.DualPathwayVertex;
import org.sa2vp.layers.Parameters;
import org.sa2vp.layers.runtime.AdapterWeights;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The trainable tensors of SA2VP-ViT under the authors' {@code state_dict} names and PyTorch layouts
 * ({@code docs/AUTHORS-CODE.md} §1.6), mapped onto this library's parameters. One table, used both ways:
 * importing parameters trained by the authors' code and exporting ours so that their code (or
 * {@code sa2vp infer --prompts}) can use them.
 * <pre>
 *   vit_base.transformer.embeddings.ppt              [1, T, r]      embeddings  promptFactors [T, r]
 *   vit_base.transformer.embeddings.ppt_proj.weight  [D, r]         embeddings  promptProjW   [r, D] (transposed)
 *   vit_base.transformer.embeddings.ppt_proj.bias    [D]            embeddings  promptProjB   [1, D]
 *   vit_base.transformer.encoder.cross_conv          [n, D]         layer.L_j   deepScale     [1, D] (row j)
 *   vit_base.transformer.encoder.deep_ppt            [n, 1, T, r]   layer.L_j   deepFactors   [T, r] (slice j)
 *   vit_base.transformer.encoder.deep_proj.j.weight  [D, r]         layer.L_j   deepProjW     [r, D] (transposed)
 *   vit_base.transformer.encoder.deep_proj.j.bias    [D]            layer.L_j   deepProjB     [1, D]
 *   vit_base.transformer.encoder.cross_attn.n.ffn_norm.{weight,bias} [D]   layer.n adapterNorm{Gamma,Beta} [1, D]
 *   vit_base.transformer.encoder.cross_attn.n.ffn.fc1.weight [t, D]        layer.n adapterDownW [D, t] (transposed)
 *   vit_base.transformer.encoder.cross_attn.n.ffn.fc1.bias   [t]           layer.n adapterDownB [1, t]
 *   vit_base.transformer.encoder.cross_attn.n.ffn.fc2.weight [D, t]        layer.n adapterUpW   [t, D] (transposed)
 *   vit_base.transformer.encoder.cross_attn.n.ffn.fc2.bias   [D]           layer.n adapterUpB   [1, D]
 *   class_head.weight [C, D], class_head.bias [C]                   head        headW [D, C] (transposed), headB [1, C]
 * </pre>
 * (L_j is the j-th deep-prompt layer.)
 */
public final class AuthorsNames {

    public static final String PREFIX = "vit_base.transformer.";

    private AuthorsNames() {
    }

    /** One tensor: its authors' name and shape, and how to read/write it from our parameters. */
    record Tensor(String name, long[] shape, Accessor accessor) {
    }

    /** Parameter (or gradient) tables by vertex name. */
    public interface Tables extends java.util.function.Function<String, Map<String, INDArray>> {
        static Tables parameters(ComputationGraph graph) {
            return vertex -> Parameters.of(graph, vertex);
        }

        /** The gradient of the last {@code computeGradientAndScore}, by vertex. */
        static Tables gradients(ComputationGraph graph) {
            Map<String, INDArray> all = graph.gradient().gradientForVariable();
            return vertex -> {
                Map<String, INDArray> table = new LinkedHashMap<>();
                all.forEach((k, v) -> {
                    if (k.startsWith(vertex + "_")) {
                        table.put(k.substring(vertex.length() + 1), v);
                    }
                });
                return table;
            };
        }
    }

    interface Accessor {
        INDArray read(Tables tables);

        void write(ComputationGraph graph, INDArray authorsValue);
    }

    /** A parameter stored transposed (or as a vector / with a leading 1) by the authors. */
    static Accessor param(String vertex, String param, boolean transposed) {
        return new Accessor() {
            @Override
            public INDArray read(Tables tables) {
                INDArray ours = tables.apply(vertex).get(param);
                return transposed ? ours.transpose().dup('c') : ours.dup('c');
            }

            @Override
            public void write(ComputationGraph graph, INDArray authorsValue) {
                INDArray ours = Parameters.of(graph, vertex).get(param);
                INDArray value = transposed ? authorsValue.transpose() : authorsValue;
                Parameters.assign(graph, vertex, param, value.reshape('c', ours.shape()));
            }
        };
    }

    /** Slice {@code j} along axis 0 of an authors' tensor stacked over the deep maps. */
    private static Accessor stackedSlice(List<Accessor> slices, long[] sliceShape) {
        return new Accessor() {
            @Override
            public INDArray read(Tables tables) {
                INDArray[] parts = slices.stream().map(s -> s.read(tables).reshape('c', prepend(sliceShape)))
                        .toArray(INDArray[]::new);
                return org.nd4j.linalg.factory.Nd4j.concat(0, parts);
            }

            @Override
            public void write(ComputationGraph graph, INDArray authorsValue) {
                for (int j = 0; j < slices.size(); j++) {
                    slices.get(j).write(graph, authorsValue.get(org.nd4j.linalg.indexing.NDArrayIndex.point(j)));
                }
            }
        };
    }

    private static long[] prepend(long[] shape) {
        long[] out = new long[shape.length + 1];
        out[0] = 1;
        System.arraycopy(shape, 0, out, 1, shape.length);
        return out;
    }

    private static List<Tensor> table(Sa2vpConfig c) {
        int d = c.getBackbone().getHiddenSize(), r = c.getPromptRank(), t = c.getAdapterSize();
        long tokens = c.getBackbone().numTokens();
        int depth = c.getBackbone().getDepth(), classes = c.getNumClasses();
        List<Tensor> out = new ArrayList<>();
        String e = Sa2vpModel.EMBEDDINGS;
        out.add(new Tensor(PREFIX + "embeddings.ppt", new long[]{1, tokens, r},
                param(e, Sa2vpEmbedding.PROMPT_FACTORS, false)));
        out.add(new Tensor(PREFIX + "embeddings.ppt_proj.weight", new long[]{d, r},
                param(e, Sa2vpEmbedding.PROMPT_PROJ_W, true)));
        out.add(new Tensor(PREFIX + "embeddings.ppt_proj.bias", new long[]{d},
                param(e, Sa2vpEmbedding.PROMPT_PROJ_B, false)));
        List<Integer> deep = c.getDeepPromptLayers();
        if (!deep.isEmpty()) {
            int n = deep.size();
            out.add(new Tensor(PREFIX + "encoder.cross_conv", new long[]{n, d}, stackedSlice(deep.stream()
                    .map(l -> param(Sa2vpModel.layer(l), DualPathwayVertex.DEEP_SCALE, false)).toList(), new long[]{d})));
            out.add(new Tensor(PREFIX + "encoder.deep_ppt", new long[]{n, 1, tokens, r}, stackedSlice(deep.stream()
                    .map(l -> param(Sa2vpModel.layer(l), DualPathwayVertex.DEEP_FACTORS, false)).toList(),
                    new long[]{1, tokens, r})));
            for (int j = 0; j < n; j++) {
                String layer = Sa2vpModel.layer(deep.get(j));
                out.add(new Tensor(PREFIX + "encoder.deep_proj." + j + ".weight", new long[]{d, r},
                        param(layer, DualPathwayVertex.DEEP_PROJ_W, true)));
                out.add(new Tensor(PREFIX + "encoder.deep_proj." + j + ".bias", new long[]{d},
                        param(layer, DualPathwayVertex.DEEP_PROJ_B, false)));
            }
        }
        if (c.isAdapter()) {
            for (int i = 0; i < depth; i++) {
                String layer = Sa2vpModel.layer(i);
                String a = PREFIX + "encoder.cross_attn." + i + ".";
                String ad = DualPathwayVertex.ADAPTER;
                out.add(new Tensor(a + "ffn_norm.weight", new long[]{d},
                        param(layer, AdapterWeights.name(ad, AdapterWeights.NORM_GAMMA), false)));
                out.add(new Tensor(a + "ffn_norm.bias", new long[]{d},
                        param(layer, AdapterWeights.name(ad, AdapterWeights.NORM_BETA), false)));
                out.add(new Tensor(a + "ffn.fc1.weight", new long[]{t, d},
                        param(layer, AdapterWeights.name(ad, AdapterWeights.DOWN_W), true)));
                out.add(new Tensor(a + "ffn.fc1.bias", new long[]{t},
                        param(layer, AdapterWeights.name(ad, AdapterWeights.DOWN_B), false)));
                out.add(new Tensor(a + "ffn.fc2.weight", new long[]{d, t},
                        param(layer, AdapterWeights.name(ad, AdapterWeights.UP_W), true)));
                out.add(new Tensor(a + "ffn.fc2.bias", new long[]{d},
                        param(layer, AdapterWeights.name(ad, AdapterWeights.UP_B), false)));
            }
        }
        out.add(new Tensor("class_head.weight", new long[]{classes, d},
                param(Sa2vpModel.HEAD, DualStreamHead.HEAD_W, true)));
        out.add(new Tensor("class_head.bias", new long[]{classes}, param(Sa2vpModel.HEAD, DualStreamHead.HEAD_B, false)));
        return out;
    }

    /** Our trainable parameters under the authors' names and layouts, in their state-dict order. */
    public static Map<String, INDArray> export(ComputationGraph graph, Sa2vpConfig config) {
        return export(Tables.parameters(graph), config);
    }

    /** The same table over any per-vertex tables, e.g. {@link Tables#gradients} (gradients in authors' layout). */
    public static Map<String, INDArray> export(Tables tables, Sa2vpConfig config) {
        return export(tables, table(config));
    }

    /** Reads every tensor of {@code table} from {@code tables} in the authors' layout, in the table's order. */
    static Map<String, INDArray> export(Tables tables, List<Tensor> table) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (Tensor t : table) {
            out.put(t.name(), t.accessor().read(tables).reshape('c', t.shape()));
        }
        return out;
    }

    /**
     * Loads authors-named trainable parameters. Every expected tensor must be present with its shape; keys that
     * are not trainable SA2VP tensors of this configuration are listed as an error (frozen backbone keys with the
     * same prefix are accepted and ignored: the authors' full state dict holds them too).
     */
    public static void load(ComputationGraph graph, Sa2vpConfig config, StateDict params) {
        List<Tensor> table = table(config);
        Set<String> known = new LinkedHashSet<>();
        List<String> missing = new ArrayList<>();
        for (Tensor t : table) {
            known.add(t.name());
            if (!params.contains(t.name())) {
                missing.add(t.name());
            }
        }
        if (!missing.isEmpty()) {
            throw new CheckpointException(params.source() + ": missing SA2VP tensors " + missing + " (expected for "
                    + "rank " + config.getPromptRank() + ", adapter " + config.getAdapterSize() + ", deep layers "
                    + config.getDeepPromptLayers() + ", " + config.getNumClasses() + " classes)");
        }
        List<String> unexpected = params.keys().stream().filter(k -> !known.contains(k))
                .filter(k -> !isFrozenAuthorsKey(k)).toList();
        if (!unexpected.isEmpty()) {
            throw new CheckpointException(params.source() + ": unexpected keys " + unexpected
                    + " (not trainable SA2VP tensors of this configuration)");
        }
        for (Tensor t : table) {
            t.accessor().write(graph, params.get(t.name(), t.shape()));
        }
    }

    /** Frozen backbone tensors of the authors' full state dict (blocks, embeddings, cross-attention copies). */
    private static boolean isFrozenAuthorsKey(String key) {
        return key.startsWith(PREFIX) && (key.contains(".attn.") || key.contains("attention_norm")
                || key.contains("encoder.layer.") || key.contains("encoder_norm") || key.contains("patch_embeddings")
                || key.contains("position_embeddings") || key.endsWith("cls_token"));
    }

    /** The number of trainable values, without the head (what the authors' script prints). */
    public static long trainableWithoutHead(Sa2vpConfig config) {
        return table(config).stream().filter(t -> !t.name().startsWith("class_head"))
                .mapToLong(t -> Arrays.stream(t.shape()).reduce(1, (a, b) -> a * b)).sum();
    }

    /** Authors' names with shapes, for {@code sa2vp info}. */
    public static Map<String, long[]> shapes(Sa2vpConfig config) {
        Map<String, long[]> out = new LinkedHashMap<>();
        table(config).forEach(t -> out.put(t.name(), t.shape()));
        return out;
    }
}
