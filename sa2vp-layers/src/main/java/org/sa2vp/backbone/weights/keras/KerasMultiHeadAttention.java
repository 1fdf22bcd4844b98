package org.sa2vp.backbone.weights.keras;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.modelimport.keras.KerasLayer;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keras {@code MultiHeadAttention} used as self-attention, {@code mha(x, x)} → {@link MultiHeadSelfAttention}.
 *
 * <p><b>Inputs.</b> A self-attention call reaches DL4J either as two inbound entries from the same layer (tfjs and
 * {@code mha([x, x])}-style configs) or as one entry whose call kwargs name the value
 * ({@code ["ln", 0, 0, {"value": ["ln", 0, 0]}]}, Python Keras). Both are reduced to the single input DL4J needs;
 * a call whose query, value (and key) come from different layers is cross-attention and is rejected.
 *
 * <p><b>Weights.</b> Keras stores {@code query|key|value/kernel [D, H, d]}, {@code query|key|value/bias [H, d]},
 * {@code attention_output/kernel [H, dv, Dout]}, {@code attention_output/bias [Dout]} in nested HDF5 groups
 * ({@code <layer>/<layer>/query/kernel:0}). DL4J 1.0.0-M2.1's weight reader follows only the first group named in
 * {@code weight_names}, so through plain {@code KerasModelImport} this layer receives just the query's
 * {@code kernel} and {@code bias}; {@link KerasVisionTransformer#importModel} reads all eight and calls
 * {@link #setWeights} again. Copying into the network with an incomplete set fails with a one-line message.
 */
public class KerasMultiHeadAttention extends KerasLayer {

    /** The Keras class name this adapter is registered under. */
    public static final String KERAS_CLASS = "MultiHeadAttention";

    /** Keras's weight names, relative to the layer. */
    public static final String QUERY_KERNEL = "query/kernel";
    public static final String QUERY_BIAS = "query/bias";
    public static final String KEY_KERNEL = "key/kernel";
    public static final String KEY_BIAS = "key/bias";
    public static final String VALUE_KERNEL = "value/kernel";
    public static final String VALUE_BIAS = "value/bias";
    public static final String OUTPUT_KERNEL = "attention_output/kernel";
    public static final String OUTPUT_BIAS = "attention_output/bias";

    private final boolean useBias;
    private String incompleteWeights;

    public KerasMultiHeadAttention(Map<String, Object> layerConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        this(layerConfig, true);
    }

    public KerasMultiHeadAttention(Map<String, Object> layerConfig, boolean enforceTrainingConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        super(layerConfig, enforceTrainingConfig);
        Map<String, Object> config = KerasConfig.inner(layerConfig);
        Object attentionAxes = config.get("attention_axes");
        if (attentionAxes != null && !List.of(1).equals(attentionAxes) && !Integer.valueOf(1).equals(attentionAxes)) {
            throw new UnsupportedKerasConfigurationException("MultiHeadAttention '" + layerName + "': attention_axes "
                    + attentionAxes + " is not supported, only attention over the tokens (None or [1])");
        }
        int keyDim = KerasConfig.integer(layerName, config, "key_dim", 0);
        useBias = KerasConfig.bool(config, "use_bias", true);
        layer = new MultiHeadSelfAttention.Builder().name(layerName)
                .numHeads(KerasConfig.integer(layerName, config, "num_heads", 0))
                .keyDim(keyDim)
                .valueDim(KerasConfig.integer(layerName, config, "value_dim", keyDim))
                .outputSize(KerasConfig.integer(layerName, config, "output_shape", 0))
                .useBias(useBias)
                .attentionDropout(KerasConfig.number(config, "dropout", 0.0))
                .build();
        setInboundLayerNames(List.of(selfAttentionSource(layerConfig)));
    }

    /** The one layer that feeds query, value and key, or an error for cross-attention and shared layers. */
    @SuppressWarnings("unchecked")
    private String selfAttentionSource(Map<String, Object> layerConfig) throws UnsupportedKerasConfigurationException {
        Object nodes = layerConfig.get("inbound_nodes");
        if (!(nodes instanceof List<?> nodeList) || nodeList.size() != 1 || !(nodeList.get(0) instanceof List<?>)) {
            throw new UnsupportedKerasConfigurationException("MultiHeadAttention '" + layerName
                    + "': expected exactly one call, got inbound_nodes " + nodes);
        }
        List<String> sources = new ArrayList<>();
        for (Object entry : (List<?>) nodeList.get(0)) {
            List<Object> tensor = (List<Object>) entry;
            sources.add((String) tensor.get(0));
            if (tensor.size() > 3 && tensor.get(3) instanceof Map<?, ?> kwargs) {
                for (String argument : new String[]{"value", "key"}) {
                    if (kwargs.get(argument) instanceof List<?> reference && !reference.isEmpty()) {
                        sources.add((String) reference.get(0));
                    }
                }
            }
        }
        Set<String> distinct = new LinkedHashSet<>(sources);
        if (distinct.size() != 1) {
            throw new UnsupportedKerasConfigurationException("MultiHeadAttention '" + layerName + "': query, value"
                    + " and key come from " + sources + "; only self-attention mha(x, x) is supported");
        }
        return distinct.iterator().next();
    }

    private MultiHeadSelfAttention attention() {
        return (MultiHeadSelfAttention) layer;
    }

    @Override
    public InputType getOutputType(InputType... inputType)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        if (inputType.length != 1) {
            throw new InvalidKerasConfigurationException("MultiHeadAttention '" + layerName
                    + "': expected 1 input after merging query and value, got " + inputType.length);
        }
        attention().setNIn(inputType[0], false);
        return attention().getOutputType(-1, inputType[0]);
    }

    @Override
    public int getNumParams() {
        return useBias ? 8 : 4;
    }

    /** Whether the layer has biases (Keras {@code use_bias}). */
    public boolean hasBias() {
        return useBias;
    }

    /**
     * Accepts Keras's eight weights by their names relative to the layer ({@link #QUERY_KERNEL} …) and converts
     * them to {@link MultiHeadSelfAttention}'s parameters. Any other set (DL4J's partial read) is remembered as
     * incomplete and reported by {@link #copyWeightsToLayer}.
     */
    @Override
    public void setWeights(Map<String, INDArray> weights) throws InvalidKerasConfigurationException {
        if (!weights.containsKey(QUERY_KERNEL)) {
            incompleteWeights = weights.keySet().toString();
            this.weights = null;
            return;
        }
        MultiHeadSelfAttention c = attention();
        long dim = c.getHiddenSize(), out = c.outputWidth();
        int heads = c.getNumHeads(), keyDim = c.getKeyDim(), valueDim = c.getValueDim();
        long queryWidth = (long) heads * keyDim, valueWidth = (long) heads * valueDim;
        this.weights = new HashMap<>();
        put(MultiHeadSelfAttention.QUERY_W, KerasConfig.weight(layerName, weights, QUERY_KERNEL, dim, heads, keyDim),
                dim, queryWidth);
        put(MultiHeadSelfAttention.KEY_W, KerasConfig.weight(layerName, weights, KEY_KERNEL, dim, heads, keyDim),
                dim, queryWidth);
        put(MultiHeadSelfAttention.VALUE_W, KerasConfig.weight(layerName, weights, VALUE_KERNEL, dim, heads,
                valueDim), dim, valueWidth);
        put(MultiHeadSelfAttention.OUTPUT_W, KerasConfig.weight(layerName, weights, OUTPUT_KERNEL, heads, valueDim,
                out), valueWidth, out);
        if (useBias) {
            put(MultiHeadSelfAttention.QUERY_B, KerasConfig.weight(layerName, weights, QUERY_BIAS, heads, keyDim),
                    1, queryWidth);
            put(MultiHeadSelfAttention.KEY_B, KerasConfig.weight(layerName, weights, KEY_BIAS, heads, keyDim),
                    1, queryWidth);
            put(MultiHeadSelfAttention.VALUE_B, KerasConfig.weight(layerName, weights, VALUE_BIAS, heads, valueDim),
                    1, valueWidth);
            put(MultiHeadSelfAttention.OUTPUT_B, KerasConfig.weight(layerName, weights, OUTPUT_BIAS, out), 1, out);
        }
        incompleteWeights = null;
    }

    /**
     * Stores a Keras tensor as a {@code [rows, columns]} DL4J matrix in C order: {@code [D, H, d] → [D, H·d]},
     * {@code [H, dv, Dout] → [H·dv, Dout]}, biases {@code → [1, n]}.
     */
    private void put(String param, INDArray keras, long rows, long columns) {
        weights.put(param, keras.dup('c').reshape('c', rows, columns));
    }

    @Override
    public void copyWeightsToLayer(Layer layer) throws InvalidKerasConfigurationException {
        if (incompleteWeights != null) {
            throw new InvalidKerasConfigurationException("MultiHeadAttention '" + layerName + "': got only weights "
                    + incompleteWeights + " (DL4J 1.0.0-M2.1 reads only the first nested HDF5 group of a layer); "
                    + "import with KerasVisionTransformer.importModel, which reads all eight");
        }
        super.copyWeightsToLayer(layer);
    }
}
