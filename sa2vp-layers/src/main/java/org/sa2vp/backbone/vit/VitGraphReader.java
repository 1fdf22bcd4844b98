package org.sa2vp.backbone.vit;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.preprocessors.ReshapePreprocessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.GraphWalk;
import org.sa2vp.backbone.weights.StateDict;
import org.sa2vp.backbone.weights.keras.ClassTokenLayer;
import org.sa2vp.backbone.weights.keras.ExactGeluActivation;
import org.sa2vp.backbone.weights.keras.MultiHeadSelfAttention;
import org.sa2vp.backbone.weights.keras.PositionEmbeddingLayer;
import org.sa2vp.backbone.weights.keras.TokenDense;
import org.sa2vp.backbone.weights.keras.TokenLayerNorm;
import org.sa2vp.backbone.weights.keras.TokenSelectLayer;
import org.sa2vp.layers.Parameters;

import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

import static org.sa2vp.backbone.GraphWalk.fail;

/**
 * Recognises a ViT in a DL4J {@link ComputationGraph} that the user already holds and reads it as a
 * {@link VitCheckpoint} (timm names, PyTorch layouts, the architecture from the layer configurations), so that
 * SA2VP and the baselines can be attached to it. Two layer vocabularies are known, walked from the one input along
 * the data flow (vertex names do not matter):
 * <ul>
 *   <li>this library's {@link VisionTransformer}: {@link PatchEmbedding} → {@link TransformerBlock}… →
 *       {@link PooledLayerNorm};</li>
 *   <li>a Keras ViT imported by {@code KerasVisionTransformer.importModel}: {@link ConvolutionLayer} (kernel =
 *       stride) → reshape → {@link ClassTokenLayer} → {@link PositionEmbeddingLayer}, per pre-LN block
 *       {@link TokenLayerNorm} → {@link MultiHeadSelfAttention} → Add (residual) → {@link TokenLayerNorm} →
 *       {@link TokenDense} (GELU) → {@link TokenDense} → Add, then {@link TokenLayerNorm} and
 *       {@link TokenSelectLayer} of token 0.</li>
 * </ul>
 * Dropout layers and reshape preprocessor vertices are passed over. What follows the final norm (a classifier
 * head) is ignored: methods bring their own. The first vertex that does not fit fails in one line naming it, its
 * layer type and what was expected there.
 */
final class VitGraphReader {

    /** Where the weights came from, in messages and as the state dict's source. */
    static final String SOURCE = "DL4J graph";

    private final ComputationGraph graph;
    private final GraphWalk walk;
    private final Map<String, INDArray> timm = new LinkedHashMap<>();
    private final Set<Double> epsilons = new HashSet<>();
    private int heads;
    private TokenPooling pooling;
    private double dropout;

    private VitGraphReader(ComputationGraph graph) {
        this.graph = graph;
        this.walk = new GraphWalk(graph, VitGraphReader::isPassThrough);
    }

    /**
     * The ViT in {@code graph} as a checkpoint; {@code options} as for files (heads must agree with the graph's,
     * an image size resizes the position embedding).
     *
     * @throws IllegalArgumentException one line naming the first vertex that is not where a ViT has it
     */
    static VitCheckpoint read(ComputationGraph graph, CheckpointOptions options) {
        return new VitGraphReader(graph).read(options);
    }

    private VitCheckpoint read(CheckpointOptions options) {
        String first = walk.firstVertex("a ViT");
        Layer layer = walk.layer(first);
        String features;
        if (layer instanceof PatchEmbedding embedding) {
            features = readOwnLayers(first, embedding);
        } else if (layer instanceof ConvolutionLayer convolution) {
            features = readKerasLayers(first, convolution);
        } else {
            throw walk.unexpected(first, "the patch embedding (" + PatchEmbedding.class.getSimpleName()
                    + ", or a ConvolutionLayer with kernel = stride as Keras imports it)");
        }
        if (epsilons.size() != 1) {
            throw fail("the LayerNorms of vertices up to '" + features + "' use different epsilons " + epsilons
                    + "; a ViT configuration has one");
        }
        VitCheckpoint.Options vitOptions = VitCheckpoint.Options.defaults().withNumHeads(options.numHeads())
                .withImageSize(options.imageSize()).withLayerNormEps(epsilons.iterator().next())
                .withDropout(dropout).withStrict(options.strict());
        VitCheckpoint read = VitCheckpoint.infer(new StateDict(SOURCE, timm), OptionalInt.of(heads), vitOptions);
        return new VitCheckpoint(read.config().withPooling(pooling), read.weights(), read.sourceGrid(),
                read.alignment());
    }

    // ------------------------------------------------------------------------ this library's ViT layers

    /** {@link VisionTransformer}'s chain; returns the final norm's vertex. */
    private String readOwnLayers(String embeddingVertex, PatchEmbedding embedding) {
        int d = embedding.getHiddenSize();
        VitCheckpoint.exportEmbedding(Parameters.of(graph, embeddingVertex), embedding.isClassToken(),
                embedding.getInChannels(), embedding.getPatchSize(), d, timm);
        dropout = embedding.getDropout();
        String vertex = embeddingVertex;
        int depth = 0;
        while (true) {
            vertex = walk.next(vertex, "a transformer block or the final norm");
            Layer layer = walk.layer(vertex);
            if (layer instanceof TransformerBlock block && block.getHiddenSize() == d) {
                VitCheckpoint.exportBlock(depth++, Parameters.of(graph, vertex), block.isQkvBias(), d, timm);
                heads(vertex, block.getNumHeads());
                epsilons.add(block.getLayerNormEps());
            } else if (layer instanceof PooledLayerNorm norm && norm.getHiddenSize() == d
                    && norm.isClassToken() == embedding.isClassToken() && norm.getPromptTokens() == 0) {
                if (depth == 0) {
                    throw walk.unexpected(vertex, "a transformer block (" + TransformerBlock.class.getSimpleName()
                            + ") after the patch embedding");
                }
                VitCheckpoint.exportFinalNorm(Parameters.of(graph, vertex), d, timm);
                epsilons.add(norm.getLayerNormEps());
                pooling = norm.getPooling();
                return vertex;
            } else {
                throw walk.unexpected(vertex, "a transformer block (" + TransformerBlock.class.getSimpleName()
                        + ") or the final norm (" + PooledLayerNorm.class.getSimpleName() + ") of width " + d);
            }
        }
    }

    // ------------------------------------------------------------------------ Keras-imported layers

    /** The Keras import's chain (see the class comment); returns the vertex of the pooled features. */
    private String readKerasLayers(String convolutionVertex, ConvolutionLayer convolution) {
        long[] kernel = Arrays.stream(convolution.getKernelSize()).asLongStream().toArray();
        long[] stride = Arrays.stream(convolution.getStride()).asLongStream().toArray();
        boolean unpadded = Arrays.stream(convolution.getPadding()).allMatch(p -> p == 0)
                && convolution.getConvolutionMode() != ConvolutionMode.Same;
        // Keras's Reshape after an NHWC convolution gives the patches in row-major order, as PatchEmbedding's
        if (kernel[0] != kernel[1] || !Arrays.equals(kernel, stride) || !unpadded || !convolution.hasBias()
                || !(convolution.getActivationFn() instanceof ActivationIdentity)
                || convolution.getCnn2dDataFormat() != CNN2DFormat.NHWC) {
            throw fail("vertex '" + convolutionVertex + "' (ConvolutionLayer) has kernel " + Arrays.toString(kernel)
                    + ", stride " + Arrays.toString(stride) + ", padding "
                    + Arrays.toString(convolution.getPadding()) + ", activation " + convolution.getActivationFn()
                    + ", format " + convolution.getCnn2dDataFormat() + "; a ViT patch embedding as Keras imports it "
                    + "has a square kernel equal to its stride, no padding, a bias, no activation and format NHWC");
        }
        Map<String, INDArray> conv = Parameters.of(graph, convolutionVertex);
        INDArray weight = conv.get("W");                                   // [D, C, P, P] (OIHW) in DL4J
        int d = (int) weight.size(0);
        timm.put("patch_embed.proj.weight", weight.dup('c'));
        timm.put("patch_embed.proj.bias", conv.get("b").reshape(d).dup());

        String vertex = walk.next(convolutionVertex, "the class token");
        boolean classToken = walk.layer(vertex) instanceof ClassTokenLayer;
        if (classToken) {
            timm.put("cls_token", param(vertex, ClassTokenLayer.CLASS_TOKEN).reshape(1, 1, d).dup());
            vertex = walk.next(vertex, "the position embedding");
        }
        if (!(walk.layer(vertex) instanceof PositionEmbeddingLayer)) {
            throw walk.unexpected(vertex, (classToken ? "" : "the class token (ClassTokenLayer) or ")
                    + "the position embedding (PositionEmbeddingLayer)");
        }
        INDArray pos = param(vertex, PositionEmbeddingLayer.POSITION_EMBEDDING);   // [T, D]
        timm.put("pos_embed", pos.reshape(1, pos.size(0), d).dup());

        int depth = 0;
        String tokens = vertex;
        while (true) {
            String input = tokens;
            List<String> readers = walk.consumersOf(input);
            String norm = readers.stream().filter(r -> walk.layer(r) instanceof TokenLayerNorm).findFirst()
                    .orElseThrow(() -> walk.unexpected(readers.isEmpty() ? input : readers.get(0),
                            "a LayerNorm (TokenLayerNorm) starting a transformer block or the final norm"));
            String afterNorm = walk.next(norm, "multi-head attention or the class-token selection");
            if (walk.layer(afterNorm) instanceof MultiHeadSelfAttention) {
                tokens = readKerasBlock(depth++, input, norm, afterNorm, d);
                continue;
            }
            if (depth == 0) {
                throw walk.unexpected(afterNorm, "multi-head attention (MultiHeadSelfAttention) in the first block");
            }
            if (readers.size() != 1) {
                throw fail("vertex '" + input + "' feeds " + readers + ", where only the final norm '" + norm
                        + "' was expected");
            }
            layerNorm(norm, "norm", d);
            if (!(walk.layer(afterNorm) instanceof TokenSelectLayer select) || select.getTokenIndex() != 0
                    || !classToken) {
                throw walk.unexpected(afterNorm, "the selection of the class token (TokenSelectLayer of token 0, "
                        + "Keras's ExtractToken) after the final norm");
            }
            pooling = TokenPooling.CLASS_TOKEN;
            return afterNorm;
        }
    }

    /**
     * One pre-LN block starting at {@code input}: {@code x + attn(LN1(x))}, then {@code y + fc2(GELU(fc1(LN2(y))))}.
     * Returns the vertex of its output (the second residual Add).
     */
    private String readKerasBlock(int index, String input, String norm1, String attentionVertex, int d) {
        String b = "blocks." + index + ".";
        layerNorm(norm1, b + "norm1", d);

        MultiHeadSelfAttention attention = (MultiHeadSelfAttention) walk.layer(attentionVertex);
        if (attention.getHiddenSize() != d || attention.outputWidth() != d || !attention.isUseBias()
                || (long) attention.getNumHeads() * attention.getKeyDim() != d
                || (long) attention.getNumHeads() * attention.getValueDim() != d) {
            throw fail("vertex '" + attentionVertex + "' (MultiHeadSelfAttention) has " + attention.getNumHeads()
                    + " heads of key width " + attention.getKeyDim() + " and value width " + attention.getValueDim()
                    + ", output " + attention.outputWidth() + ", bias " + attention.isUseBias() + "; a ViT block "
                    + "of width " + d + " needs heads x key width = heads x value width = output = " + d
                    + " with biases");
        }
        heads(attentionVertex, attention.getNumHeads());
        Map<String, INDArray> a = Parameters.of(graph, attentionVertex);
        timm.put(b + "attn.qkv.weight", Nd4j.vstack(a.get(MultiHeadSelfAttention.QUERY_W).transpose(),
                a.get(MultiHeadSelfAttention.KEY_W).transpose(), a.get(MultiHeadSelfAttention.VALUE_W).transpose())
                .dup('c'));
        timm.put(b + "attn.qkv.bias", Nd4j.concat(0, a.get(MultiHeadSelfAttention.QUERY_B).reshape(d),
                a.get(MultiHeadSelfAttention.KEY_B).reshape(d), a.get(MultiHeadSelfAttention.VALUE_B).reshape(d)).dup());
        timm.put(b + "attn.proj.weight", a.get(MultiHeadSelfAttention.OUTPUT_W).transpose().dup('c'));
        timm.put(b + "attn.proj.bias", a.get(MultiHeadSelfAttention.OUTPUT_B).reshape(d).dup());

        String residual1 = residualAdd(attentionVertex, input, "the attention's residual Add");
        String norm2 = walk.next(residual1, "the block's second LayerNorm", residual1Readers -> residual1Readers
                .stream().filter(r -> walk.layer(r) instanceof TokenLayerNorm).toList());
        layerNorm(norm2, b + "norm2", d);
        String fc1 = walk.next(norm2, "the MLP's first Dense");
        dense(fc1, b + "mlp.fc1", d, -1, true);
        String fc2 = walk.next(fc1, "the MLP's second Dense");
        dense(fc2, b + "mlp.fc2", -1, d, false);
        return residualAdd(fc2, residual1, "the MLP's residual Add");
    }

    /** LayerNorm {@code gamma, beta [1, D]} as timm's {@code <prefix>.weight, .bias [D]}; records its epsilon. */
    private void layerNorm(String vertex, String prefix, int d) {
        if (!(walk.layer(vertex) instanceof TokenLayerNorm norm) || norm.getHiddenSize() != d) {
            throw walk.unexpected(vertex, "a LayerNorm (TokenLayerNorm) of width " + d);
        }
        epsilons.add(norm.getEpsilon());
        timm.put(prefix + ".weight", param(vertex, TokenLayerNorm.GAMMA).reshape(d).dup());
        timm.put(prefix + ".bias", param(vertex, TokenLayerNorm.BETA).reshape(d).dup());
    }

    /** A token-wise Dense {@code W [in, out]} as timm's {@code weight [out, in]}; GELU on the first MLP layer. */
    private void dense(String vertex, String prefix, long in, long out, boolean gelu) {
        boolean fits = walk.layer(vertex) instanceof TokenDense dense && dense.isHasBias()
                && (in < 0 || dense.getInputSize() == in) && (out < 0 || dense.getOutputSize() == out)
                && (gelu ? dense.getActivation() instanceof ExactGeluActivation
                : dense.getActivation() instanceof ActivationIdentity);
        if (!fits) {
            throw walk.unexpected(vertex, "a token-wise Dense (TokenDense) with bias"
                    + (in > 0 ? ", input width " + in : "") + (out > 0 ? ", output width " + out : "")
                    + (gelu ? " and exact GELU" : " and no activation"));
        }
        Map<String, INDArray> p = Parameters.of(graph, vertex);
        INDArray bias = p.get(TokenDense.BIAS);
        timm.put(prefix + ".weight", p.get(TokenDense.WEIGHT).transpose().dup('c'));
        timm.put(prefix + ".bias", bias.reshape(bias.length()).dup());
    }

    /** The residual Add reading {@code branch} (past pass-through vertices) and {@code skip}; its name. */
    private String residualAdd(String branch, String skip, String expected) {
        String add = walk.next(branch, expected);
        GraphVertex vertex = walk.conf().getVertices().get(add);
        List<String> inputs = walk.conf().getVertexInputs().get(add).stream().map(walk::source).toList();
        if (!(vertex instanceof ElementWiseVertex sum) || sum.getOp() != ElementWiseVertex.Op.Add
                || !new HashSet<>(inputs).equals(Set.of(walk.source(branch), walk.source(skip)))
                || inputs.size() != 2) {
            throw walk.unexpected(add, expected + " of '" + branch + "' and '" + skip + "'");
        }
        return add;
    }

    /** Records the blocks' head count, which a ViT configuration has once. */
    private void heads(String vertex, int blockHeads) {
        if (heads != 0 && heads != blockHeads) {
            throw fail("vertex '" + vertex + "' has " + blockHeads + " attention heads, the blocks before it " + heads
                    + "; a ViT configuration has one head count");
        }
        heads = blockHeads;
    }

    // ------------------------------------------------------------------------ walking the graph

    /** Dropout layers (identity at inference) and reshape preprocessors (Keras's Reshape to tokens). */
    private static boolean isPassThrough(GraphVertex v) {
        return v instanceof PreprocessorVertex p && p.getPreProcessor() instanceof ReshapePreprocessor
                || GraphWalk.isDropout(v);
    }

    private INDArray param(String vertex, String name) {
        return Parameters.of(graph, vertex).get(name);
    }
}
