package org.sa2vp.backbone.weights.keras;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.modelimport.keras.Hdf5Archive;
import org.deeplearning4j.nn.modelimport.keras.KerasLayer;
import org.deeplearning4j.nn.modelimport.keras.KerasModel;
import org.deeplearning4j.nn.modelimport.keras.utils.KerasModelBuilder;
import org.deeplearning4j.nn.modelimport.keras.utils.KerasModelUtils;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.backbone.weights.StateDict;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * Keras {@code .h5} Vision Transformers (vit-keras / keras-io layer types, pre-LN blocks) in DL4J: as a
 * {@link ComputationGraph} built from this package's layers ({@link #importModel}), or as a {@link StateDict} in timm
 * key names and PyTorch layouts for the library's own ViT ({@link #toStateDict}).
 *
 * <p>What DL4J 1.0.0-M2.1's {@code KerasModelImport} lacks, and how it is filled in:
 * <ul>
 *   <li>{@code LayerNormalization}, {@code MultiHeadAttention} (self-attention), vit-keras {@code ClassToken} and
 *       {@code AddPositionEmbs}: custom layers ({@code KerasLayer.registerCustomLayer}).</li>
 *   <li>vit-keras's {@code Lambda(lambda v: v[:, 0], name="ExtractToken")}: {@code KerasLayer.registerLambdaLayer}
 *       with a {@link TokenSelectLayer}. DL4J resolves Lambda layers by layer name, so other Lambdas are refused.</li>
 *   <li>{@code Dense}: DL4J's DenseLayer leaves token maps flattened to {@code [B·T, D]} (the residual Add then
 *       fails), and DL4J maps no activation to GELU. Custom classes are looked up only after the built-in ones, so
 *       the model JSON is edited before the import to give Dense layers the class
 *       {@link KerasTokenAwareDense#KERAS_CLASS}: a {@link TokenDense} on token maps, exact erf GELU for
 *       {@code "gelu"} (Keras's default).</li>
 *   <li>Nested {@code MultiHeadAttention} weights: DL4J's HDF5 reader returns only the query's kernel and bias,
 *       so the eight weights are read here and handed to {@link KerasMultiHeadAttention#setWeights}.</li>
 * </ul>
 * Because of the last two points a plain {@code KerasModelImport.importKerasModelAndWeights(h5)} cannot import a
 * Keras ViT even with the custom layers registered; use {@link #importModel}.
 *
 * <p>Every failure is a one-line {@link CheckpointException} that names the file and, where it applies, the layer.
 */
public final class KerasVisionTransformer {

    /** The vit-keras layer name of the class-token Lambda {@code v[:, 0]}. */
    public static final String EXTRACT_TOKEN_LAMBDA = "ExtractToken";

    /** Keras's MultiHeadAttention weights, relative to the layer, in Keras's order. */
    private static final List<String> ATTENTION_WEIGHTS = List.of(KerasMultiHeadAttention.QUERY_KERNEL,
            KerasMultiHeadAttention.QUERY_BIAS, KerasMultiHeadAttention.KEY_KERNEL, KerasMultiHeadAttention.KEY_BIAS,
            KerasMultiHeadAttention.VALUE_KERNEL, KerasMultiHeadAttention.VALUE_BIAS,
            KerasMultiHeadAttention.OUTPUT_KERNEL, KerasMultiHeadAttention.OUTPUT_BIAS);

    private static boolean registered;
    private static Set<String> supportedClasses;

    private KerasVisionTransformer() {
    }

    /** Registers this package's Keras layer adapters with DL4J's Keras import (once; later calls do nothing). */
    public static synchronized void registerKerasLayers() {
        if (registered) {
            return;
        }
        KerasLayer.registerCustomLayer(KerasLayerNormalization.KERAS_CLASS, KerasLayerNormalization.class);
        KerasLayer.registerCustomLayer(KerasMultiHeadAttention.KERAS_CLASS, KerasMultiHeadAttention.class);
        KerasLayer.registerCustomLayer(KerasClassToken.KERAS_CLASS, KerasClassToken.class);
        KerasLayer.registerCustomLayer(KerasAddPositionEmbs.KERAS_CLASS, KerasAddPositionEmbs.class);
        KerasLayer.registerCustomLayer(KerasTokenAwareDense.KERAS_CLASS, KerasTokenAwareDense.class);
        registered = true;
    }

    /**
     * Imports a Keras-2 {@code .h5} model (saved with {@code model.save}) as a ComputationGraph with its weights.
     * Input images are NHWC {@code [B, H, W, C]} as in Keras; token maps inside are {@code [B, T, D]}.
     *
     * @throws CheckpointException (one line, naming the file and the layer) for unreadable files, unsupported
     *                             layers or activations, cross-attention and weights of the wrong shape
     */
    public static ComputationGraph importModel(Path h5) {
        String file = h5.getFileName().toString();
        try {
            KerasModel model = buildKerasModel(h5, file);
            completeAttentionWeights(h5, file, model);
            return model.getComputationGraph();
        } catch (Exception e) {
            throw KerasFiles.failure(file, e);
        }
    }

    /**
     * The model's weights in timm names and PyTorch layouts (float32, C order), by {@link #MAPPING}: the weighted
     * layers must read Conv2D, ClassToken, AddPositionEmbs, then per block LayerNormalization, MultiHeadAttention,
     * LayerNormalization, Dense, Dense, then LayerNormalization and an optional Dense head. Layers without weights
     * (Input, Reshape, Add, Lambda, Dropout, ...) are passed over.
     *
     * @throws CheckpointException naming the file and the first layer that does not fit
     */
    public static StateDict toStateDict(Path h5) {
        String file = h5.getFileName().toString();
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        try (Hdf5Archive archive = KerasFiles.openArchive(h5, file)) {
            List<Map<String, Object>> layers = KerasFiles.modelLayers(archive.readAttributeAsJson("model_config"),
                    file);
            List<Map<String, Object>> weighted = new ArrayList<>();
            for (Map<String, Object> layer : layers) {
                String kerasClass = (String) layer.get("class_name");
                if (WEIGHTED_CLASSES.contains(kerasClass)) {
                    weighted.add(layer);
                } else if (!WEIGHTLESS_CLASSES.contains(kerasClass)) {
                    throw new CheckpointException(file + ": layer '" + layer.get("name") + "' has class '"
                            + kerasClass + "', which the Keras ViT mapping does not know");
                }
            }
            new Mapper(archive, file, weighted, tensors).map();
        } catch (Exception e) {
            throw KerasFiles.failure(file, e);
        }
        return new StateDict(file, tensors);
    }

    /** The {@code num_heads} of the model's MultiHeadAttention layers (all equal), or empty if it has none. */
    public static java.util.OptionalInt numHeads(Path h5) {
        String file = h5.getFileName().toString();
        try (Hdf5Archive archive = KerasFiles.openArchive(h5, file)) {
            java.util.Set<Integer> heads = new java.util.TreeSet<>();
            Object modelJson = archive.readAttributeAsJson("model_config");
            for (Map<String, Object> layer : KerasFiles.modelLayers(modelJson, file)) {
                if ("MultiHeadAttention".equals(layer.get("class_name"))) {
                    heads.add(KerasConfig.integer((String) layer.get("name"), KerasConfig.inner(layer), "num_heads", 0));
                }
            }
            if (heads.size() > 1) {
                throw new CheckpointException(file + ": attention layers have different head counts " + heads);
            }
            return heads.isEmpty() ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(heads.iterator().next());
        } catch (Exception e) {
            throw KerasFiles.failure(file, e);
        }
    }

    // -------------------------------------------------------------------------------------------- import

    /**
     * DL4J's KerasModel for the file, with the model JSON prepared by {@link #prepareLayer}. Synchronized because
     * DL4J's custom and Lambda layer registries are global.
     */
    private static synchronized KerasModel buildKerasModel(Path h5, String file) throws Exception {
        KerasFiles.openArchive(h5, file).close();
        registerKerasLayers();
        KerasModelBuilder builder = new KerasModel().modelBuilder().modelHdf5Filename(h5.toString())
                .enforceTrainingConfig(false);
        Map<String, Object> model = KerasModelUtils.parseJsonString(builder.getModelJson());
        for (Map<String, Object> layer : KerasFiles.modelLayers(model, file)) {
            prepareLayer(layer, file);
        }
        builder.setModelJson(new ObjectMapper().writeValueAsString(model));
        return builder.buildModel();
    }

    /**
     * Checks one layer of the model JSON against what the import supports, renames the class of Dense layers (see
     * {@link KerasTokenAwareDense}) and registers the ExtractToken Lambda.
     */
    private static void prepareLayer(Map<String, Object> layer, String file) {
        String name = (String) layer.get("name");
        String kerasClass = (String) layer.get("class_name");
        Map<String, Object> config = KerasConfig.inner(layer);
        if ("Dense".equals(kerasClass)) {
            layer.put("class_name", KerasTokenAwareDense.KERAS_CLASS);
            return;
        }
        if ("gelu".equals(config.get("activation"))) {
            throw new CheckpointException(file + ": layer '" + name + "' (" + kerasClass
                    + ") uses activation 'gelu', which is supported on Dense layers only");
        }
        if ("Lambda".equals(kerasClass)) {
            if (!EXTRACT_TOKEN_LAMBDA.equals(name)) {
                throw new CheckpointException(file + ": Lambda layer '" + name + "' is not supported; only vit-keras's "
                        + "'" + EXTRACT_TOKEN_LAMBDA + "' (v[:, 0]) is known");
            }
            KerasLayer.registerLambdaLayer(name, new TokenSelectLayer(0));
            return;
        }
        if (!supportedClasses().contains(kerasClass)) {
            throw KerasFiles.unsupportedClass(file, name, kerasClass);
        }
    }

    /** Reads the eight weights of every MultiHeadAttention layer (DL4J's reader gets only two, see the class doc). */
    private static void completeAttentionWeights(Path h5, String file, KerasModel model) throws Exception {
        try (Hdf5Archive archive = KerasFiles.openArchive(h5, file)) {
            for (KerasLayer layer : model.getLayersOrdered()) {
                if (layer instanceof KerasMultiHeadAttention attention) {
                    Map<String, INDArray> weights = new HashMap<>();
                    for (String weight : ATTENTION_WEIGHTS) {
                        if (!attention.hasBias() && weight.endsWith("/bias")) {
                            continue;
                        }
                        weights.put(weight, KerasFiles.readWeight(archive, file, layer.getLayerName(), weight));
                    }
                    attention.setWeights(weights);
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------ mapping

    /** A weighted Keras layer's place in the ViT: its Keras class, timm key prefix and weight conversion. */
    private record Slot(String kerasClass, String timmPrefix, Conversion conversion) {
    }

    /** Writes a Keras layer's weights (read through the function: weight name → array) under a timm prefix. */
    @FunctionalInterface
    private interface Conversion {
        void convert(BiFunction<String, long[], INDArray> weight, String prefix, Map<String, INDArray> out);
    }

    /**
     * The one mapping table: the stem, one pre-LN block (repeated; {@code %d} is the block index) and the head, as
     * Keras layer classes in graph order with their timm names and PyTorch layouts.
     */
    private static final Map<String, List<Slot>> MAPPING = Map.of(
            "stem", List.of(
                    new Slot("Conv2D", "patch_embed.proj", KerasVisionTransformer::convolution),
                    new Slot(KerasClassToken.KERAS_CLASS, "cls_token", (w, p, out) ->
                            out.put(p, w.apply("cls", new long[]{1, 1, -1}))),
                    new Slot(KerasAddPositionEmbs.KERAS_CLASS, "pos_embed", (w, p, out) ->
                            out.put(p, w.apply("pos_embedding", new long[]{1, -1, -1})))),
            "block", List.of(
                    new Slot(KerasLayerNormalization.KERAS_CLASS, "blocks.%d.norm1", KerasVisionTransformer::layerNorm),
                    new Slot(KerasMultiHeadAttention.KERAS_CLASS, "blocks.%d.attn", KerasVisionTransformer::attention),
                    new Slot(KerasLayerNormalization.KERAS_CLASS, "blocks.%d.norm2", KerasVisionTransformer::layerNorm),
                    new Slot("Dense", "blocks.%d.mlp.fc1", KerasVisionTransformer::dense),
                    new Slot("Dense", "blocks.%d.mlp.fc2", KerasVisionTransformer::dense)),
            "head", List.of(
                    new Slot(KerasLayerNormalization.KERAS_CLASS, "norm", KerasVisionTransformer::layerNorm),
                    new Slot("Dense", "head", KerasVisionTransformer::dense)));

    private static final Set<String> WEIGHTED_CLASSES = Set.of("Conv2D", "Dense", KerasClassToken.KERAS_CLASS,
            KerasAddPositionEmbs.KERAS_CLASS, KerasLayerNormalization.KERAS_CLASS, KerasMultiHeadAttention.KERAS_CLASS);

    private static final Set<String> WEIGHTLESS_CLASSES = Set.of("InputLayer", "Reshape", "Add", "Lambda", "Dropout",
            "Activation", "Flatten", "Permute");

    /** Conv2D {@code kernel [kh, kw, C, D]} (HWIO) → {@code weight [D, C, kh, kw]}; {@code bias [D]}. */
    private static void convolution(BiFunction<String, long[], INDArray> w, String prefix, Map<String, INDArray> out) {
        out.put(prefix + ".weight", w.apply("kernel", new long[]{-1, -1, -1, -1}).permute(3, 2, 0, 1).dup('c'));
        out.put(prefix + ".bias", w.apply("bias", new long[]{-1}));
    }

    /** LayerNormalization {@code gamma, beta [D]} → {@code weight, bias [D]}. */
    private static void layerNorm(BiFunction<String, long[], INDArray> w, String prefix, Map<String, INDArray> out) {
        out.put(prefix + ".weight", w.apply("gamma", new long[]{-1}));
        out.put(prefix + ".bias", w.apply("beta", new long[]{-1}));
    }

    /** Dense {@code kernel [in, out]} → {@code weight [out, in]}; {@code bias [out]}. */
    private static void dense(BiFunction<String, long[], INDArray> w, String prefix, Map<String, INDArray> out) {
        out.put(prefix + ".weight", w.apply("kernel", new long[]{-1, -1}).transpose().dup('c'));
        out.put(prefix + ".bias", w.apply("bias", new long[]{-1}));
    }

    /**
     * MultiHeadAttention → timm's fused {@code qkv.weight [3D, D]} (rows: query; key; value, each the Keras kernel
     * {@code [D, H, dk]} reshaped to {@code [D, H·dk]} and transposed), {@code qkv.bias [3D]},
     * {@code proj.weight [D, D]} (the output kernel {@code [H, dv, D]} as {@code [H·dv, D]}, transposed) and
     * {@code proj.bias [D]}. timm's layout needs H·dk = H·dv = D.
     */
    private static void attention(BiFunction<String, long[], INDArray> w, String prefix, Map<String, INDArray> out) {
        INDArray probe = w.apply(KerasMultiHeadAttention.QUERY_KERNEL, new long[]{-1, -1, -1});
        long dim = probe.size(0), heads = probe.size(1), headDim = dim / heads;
        long[] kernel = {dim, heads, headDim};
        long[] bias = {heads, headDim};
        INDArray qkvWeight = Nd4j.vstack(
                w.apply(KerasMultiHeadAttention.QUERY_KERNEL, kernel).reshape('c', dim, dim).transpose(),
                w.apply(KerasMultiHeadAttention.KEY_KERNEL, kernel).reshape('c', dim, dim).transpose(),
                w.apply(KerasMultiHeadAttention.VALUE_KERNEL, kernel).reshape('c', dim, dim).transpose());
        out.put(prefix + ".qkv.weight", qkvWeight.dup('c'));
        out.put(prefix + ".qkv.bias", Nd4j.concat(0,
                w.apply(KerasMultiHeadAttention.QUERY_BIAS, bias).reshape(dim),
                w.apply(KerasMultiHeadAttention.KEY_BIAS, bias).reshape(dim),
                w.apply(KerasMultiHeadAttention.VALUE_BIAS, bias).reshape(dim)));
        out.put(prefix + ".proj.weight", w.apply(KerasMultiHeadAttention.OUTPUT_KERNEL, new long[]{heads, headDim, dim})
                .reshape('c', dim, dim).transpose().dup('c'));
        out.put(prefix + ".proj.bias", w.apply(KerasMultiHeadAttention.OUTPUT_BIAS, new long[]{dim}));
    }

    /** Walks the weighted layers through {@link #MAPPING}, failing on the first layer that does not fit. */
    private static final class Mapper {
        private final Hdf5Archive archive;
        private final String file;
        private final List<Map<String, Object>> layers;
        private final Map<String, INDArray> out;
        private int next;

        Mapper(Hdf5Archive archive, String file, List<Map<String, Object>> layers, Map<String, INDArray> out) {
            this.archive = archive;
            this.file = file;
            this.layers = layers;
            this.out = out;
        }

        void map() {
            for (Slot slot : MAPPING.get("stem")) {
                take(slot, -1);
            }
            int block = 0;
            List<Slot> blockSlots = MAPPING.get("block");
            while (next + 1 < layers.size() && className(next + 1).equals(blockSlots.get(1).kerasClass())) {
                for (Slot slot : blockSlots) {
                    take(slot, block);
                }
                block++;
            }
            if (block == 0) {
                throw new CheckpointException(file + ": no transformer block found (LayerNormalization followed by "
                        + "MultiHeadAttention) after the position embedding");
            }
            List<Slot> head = MAPPING.get("head");
            take(head.get(0), -1);
            if (next < layers.size()) {
                take(head.get(1), -1);
            }
            if (next < layers.size()) {
                throw new CheckpointException(file + ": layer '" + layers.get(next).get("name") + "' ("
                        + className(next) + ") follows the head; the Keras ViT mapping ends there");
            }
        }

        private String className(int index) {
            return (String) layers.get(index).get("class_name");
        }

        private void take(Slot slot, int block) {
            String prefix = block >= 0 ? String.format(slot.timmPrefix(), block) : slot.timmPrefix();
            if (next >= layers.size()) {
                throw new CheckpointException(file + ": the model ends where a " + slot.kerasClass() + " layer ("
                        + prefix + ") was expected");
            }
            String name = (String) layers.get(next).get("name");
            if (!className(next).equals(slot.kerasClass())) {
                throw new CheckpointException(file + ": layer '" + name + "' is a " + className(next) + " where a "
                        + slot.kerasClass() + " (" + prefix + ") was expected");
            }
            slot.conversion().convert((weight, shape) -> checked(name, weight, shape), prefix, out);
            next++;
        }

        private INDArray checked(String layer, String weight, long[] shape) {
            INDArray value = KerasFiles.readWeight(archive, file, layer, weight);
            boolean matches = value.rank() == shape.length;
            for (int i = 0; matches && i < shape.length; i++) {
                matches = shape[i] < 0 || shape[i] == value.size(i);
            }
            if (!matches) {
                throw new CheckpointException(file + ": layer '" + layer + "' weight '" + weight + "' has shape "
                        + Arrays.toString(value.shape()) + ", expected " + Arrays.toString(shape).replace("-1", "*"));
            }
            return value.castTo(DataType.FLOAT);
        }
    }

    /** DL4J's built-in Keras class names plus the ones registered here. */
    private static synchronized Set<String> supportedClasses() {
        if (supportedClasses == null) {
            Set<String> names = new HashSet<>(KerasFiles.dl4jClasses());
            names.addAll(List.of(KerasLayerNormalization.KERAS_CLASS, KerasMultiHeadAttention.KERAS_CLASS,
                    KerasClassToken.KERAS_CLASS, KerasAddPositionEmbs.KERAS_CLASS, KerasTokenAwareDense.KERAS_CLASS));
            supportedClasses = names;
        }
        return supportedClasses;
    }
}
