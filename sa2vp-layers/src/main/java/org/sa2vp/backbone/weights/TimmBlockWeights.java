package org.sa2vp.backbone.weights;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.sa2vp.layers.Parameters;
import org.sa2vp.layers.runtime.AttentionWeights;
import org.sa2vp.layers.runtime.BlockWeights;

import java.util.Map;

/**
 * A pre-LN transformer block's tensors under timm's names and PyTorch layouts ({@code <prefix>norm1.*},
 * {@code attn.qkv.weight [3D, D]}, {@code attn.qkv.bias [3D]}, {@code attn.proj.*}, {@code norm2.*},
 * {@code mlp.fc1.weight [M, D]}, {@code mlp.fc2.*}) to and from a DL4J parameter table with
 * {@link BlockWeights#NAMES} (x·W layouts, q/k/v separate): the ViT's blocks ({@code blocks.{i}.}) and Swin's
 * ({@code layers.{i}.blocks.{j}.}) hold the same tensors.
 */
public final class TimmBlockWeights {

    private TimmBlockWeights() {
    }

    /**
     * Copies block {@code prefix} of {@code weights} into {@code table}; a checkpoint without q/k/v biases gives zero
     * biases.
     *
     * @param owner names the table in messages
     */
    public static void assign(StateDict weights, String prefix, Map<String, INDArray> table, String owner, int width,
                              int mlp) {
        long d = width;
        INDArray qkv = weights.get(prefix + "attn.qkv.weight", 3 * d, d);
        INDArray qkvBias = weights.contains(prefix + "attn.qkv.bias") ? weights.get(prefix + "attn.qkv.bias", 3 * d)
                : null;
        Parameters.assign(table, owner, BlockWeights.NORM1 + "Gamma", row(weights.get(prefix + "norm1.weight", d)));
        Parameters.assign(table, owner, BlockWeights.NORM1 + "Beta", row(weights.get(prefix + "norm1.bias", d)));
        String[] projections = {AttentionWeights.QUERY_W, AttentionWeights.KEY_W, AttentionWeights.VALUE_W};
        String[] biases = {AttentionWeights.QUERY_B, AttentionWeights.KEY_B, AttentionWeights.VALUE_B};
        for (int k = 0; k < 3; k++) {
            Parameters.assign(table, owner, projections[k],
                    qkv.get(NDArrayIndex.interval(k * d, (k + 1) * d), NDArrayIndex.all()).transpose());
            Parameters.assign(table, owner, biases[k], qkvBias == null ? row(qkv.getRow(0)).mul(0)
                    : row(qkvBias.get(NDArrayIndex.interval(k * d, (k + 1) * d))));
        }
        Parameters.assign(table, owner, AttentionWeights.OUT_W, weights.get(prefix + "attn.proj.weight", d, d)
                .transpose());
        Parameters.assign(table, owner, AttentionWeights.OUT_B, row(weights.get(prefix + "attn.proj.bias", d)));
        Parameters.assign(table, owner, BlockWeights.NORM2_GAMMA, row(weights.get(prefix + "norm2.weight", d)));
        Parameters.assign(table, owner, BlockWeights.NORM2_BETA, row(weights.get(prefix + "norm2.bias", d)));
        Parameters.assign(table, owner, BlockWeights.FC1_W, weights.get(prefix + "mlp.fc1.weight", mlp, d)
                .transpose());
        Parameters.assign(table, owner, BlockWeights.FC1_B, row(weights.get(prefix + "mlp.fc1.bias", mlp)));
        Parameters.assign(table, owner, BlockWeights.FC2_W, weights.get(prefix + "mlp.fc2.weight", d, mlp)
                .transpose());
        Parameters.assign(table, owner, BlockWeights.FC2_B, row(weights.get(prefix + "mlp.fc2.bias", d)));
    }

    /** The inverse of {@link #assign}: the table's block under {@code prefix} into {@code out}. */
    public static void export(Map<String, INDArray> table, boolean qkvBias, int width, String prefix,
                              Map<String, INDArray> out) {
        long d = width;
        out.put(prefix + "norm1.weight", table.get(BlockWeights.NORM1 + "Gamma").reshape(d).dup());
        out.put(prefix + "norm1.bias", table.get(BlockWeights.NORM1 + "Beta").reshape(d).dup());
        out.put(prefix + "attn.qkv.weight", Nd4j.concat(0, table.get(AttentionWeights.QUERY_W).transpose(),
                table.get(AttentionWeights.KEY_W).transpose(), table.get(AttentionWeights.VALUE_W).transpose())
                .dup('c'));
        if (qkvBias) {
            out.put(prefix + "attn.qkv.bias", Nd4j.concat(1, table.get(AttentionWeights.QUERY_B),
                    table.get(AttentionWeights.KEY_B), table.get(AttentionWeights.VALUE_B)).reshape(3 * d).dup());
        }
        out.put(prefix + "attn.proj.weight", table.get(AttentionWeights.OUT_W).transpose().dup('c'));
        out.put(prefix + "attn.proj.bias", table.get(AttentionWeights.OUT_B).reshape(d).dup());
        out.put(prefix + "norm2.weight", table.get(BlockWeights.NORM2_GAMMA).reshape(d).dup());
        out.put(prefix + "norm2.bias", table.get(BlockWeights.NORM2_BETA).reshape(d).dup());
        out.put(prefix + "mlp.fc1.weight", table.get(BlockWeights.FC1_W).transpose().dup('c'));
        out.put(prefix + "mlp.fc1.bias", table.get(BlockWeights.FC1_B).reshape(table.get(BlockWeights.FC1_B).length())
                .dup());
        out.put(prefix + "mlp.fc2.weight", table.get(BlockWeights.FC2_W).transpose().dup('c'));
        out.put(prefix + "mlp.fc2.bias", table.get(BlockWeights.FC2_B).reshape(d).dup());
    }

    /** A vector as a {@code [1, n]} row (DL4J's bias and LayerNorm parameter layout). */
    public static INDArray row(INDArray v) {
        return v.reshape('c', 1, v.length());
    }
}
