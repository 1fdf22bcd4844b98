package org.sa2vp.backbone.swin.keras;

import org.deeplearning4j.nn.conf.layers.samediff.AbstractSameDiffLayer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.backbone.weights.StateDict;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Keras Swin layers' weights under timm's names and PyTorch layouts, so that the Swin family's own layout code
 * ({@code SwinCheckpoint.assign*}) fills the imported layers. The Keras names are Microsoft's module names with
 * Keras's leaf names, which SwinTransformer-Tensorflow2 maps to the PyTorch checkpoints by one rule, the rule used
 * here: {@code /} becomes {@code .}; {@code gamma} becomes {@code weight} and {@code beta} {@code bias};
 * {@code kernel} becomes {@code weight}, a Dense kernel {@code [in, out]} transposed to {@code [out, in]} and a
 * Conv2D kernel {@code [kh, kw, C, D]} (HWIO) permuted to {@code [D, C, kh, kw]}. Layers built by Keras may also hold
 * the non-trainable buffers {@code relative_position_index} and {@code attn_mask}; they are recomputed by
 * {@link org.sa2vp.backbone.swin.SwinBlock} and not read.
 */
final class KerasSwinWeights {

    /** Non-trainable buffers that Keras saves with the blocks and the import recomputes. */
    private static final Set<String> BUFFERS = Set.of("attn/relative_position_index", "attn_mask");

    private KerasSwinWeights() {
    }

    /** The layer's Keras weights as timm tensors under {@code prefix} (e.g. {@code "patch_embed."}). */
    static StateDict toTimm(Map<String, INDArray> keras, String prefix) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        keras.forEach((name, value) -> {
            if (BUFFERS.contains(name)) {
                return;
            }
            List<String> parts = List.of(name.split("/"));
            String leaf = parts.get(parts.size() - 1);
            String path = String.join(".", parts.subList(0, parts.size() - 1));
            String timmLeaf = switch (leaf) {
                case "gamma", "kernel" -> "weight";
                case "beta" -> "bias";
                default -> leaf;
            };
            INDArray tensor = !leaf.equals("kernel") ? value
                    : value.rank() == 4 ? value.permute(3, 2, 0, 1) : value.transpose();
            out.put(prefix + (path.isEmpty() ? "" : path + ".") + timmLeaf, tensor.dup('c'));
        });
        return new StateDict("its weights in timm names", out);
    }

    /** A zero parameter table with the layer's parameter names and shapes, for {@code SwinCheckpoint.assign*}. */
    static Map<String, INDArray> emptyTable(AbstractSameDiffLayer layer) {
        Map<String, INDArray> table = new LinkedHashMap<>();
        layer.getLayerParams().getParamShapes().forEach((name, shape) -> table.put(name, Nd4j.zeros(shape)));
        return table;
    }
}
