package org.sa2vp.backbone.swin.keras;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.modelimport.keras.Hdf5Archive;
import org.deeplearning4j.nn.modelimport.keras.KerasLayer;
import org.deeplearning4j.nn.modelimport.keras.KerasModel;
import org.deeplearning4j.nn.modelimport.keras.utils.KerasModelUtils;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.backbone.weights.keras.KerasConfig;
import org.sa2vp.backbone.weights.keras.KerasFiles;
import org.sa2vp.backbone.weights.keras.KerasLayerNormalization;
import org.sa2vp.backbone.weights.keras.KerasTokenAwareDense;
import org.sa2vp.backbone.weights.keras.KerasVisionTransformer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keras {@code .h5} Swin Transformers in DL4J: DL4J's {@code KerasModelImport} machinery with custom layers
 * registered for the Swin layer classes, giving a {@link ComputationGraph} of the Swin family's own layers
 * ({@code SwinPatchEmbedding}, {@code SwinBlock}, {@code PatchMerging}, {@code LayerNormMeanPooling}), so that
 * {@code Backbones.fromGraph} recognises it and tuning methods attach to it.
 *
 * <p>The supported layout is a functional model of the Keras layers {@code PatchEmbed}, {@code SwinTransformerBlock}
 * and {@code PatchMerging} of SwinTransformer-Tensorflow2 (github.com/Burf/SwinTransformer-Tensorflow2): their class
 * names, config fields and weight names (Microsoft's module names), one Keras layer per block, followed by
 * {@code LayerNormalization}, {@code GlobalAveragePooling1D} and an optional {@code Dense} head. That project's own
 * builder wraps each stage's blocks in a {@code BasicLayer}, which is not read here (one Keras layer would be several
 * DL4J layers, and its config holds Python classes, {@code normalize} and {@code downsample}, not names). The math
 * is standard Swin (Microsoft's code, timm, torchvision) for windows that divide the map, the only case
 * SwinTransformer-Tensorflow2 computes (it has no padding; {@code SwinBlock} pads as torchvision does).
 * The keras.io example "Image classification with Swin Transformers" is a different architecture (an absolute
 * position embedding, no LayerNorm in its patch merging or at the end) and is not supported.
 *
 * <p>What the import adds to DL4J 1.0.0-M2.1: the adapters {@link KerasPatchEmbed},
 * {@link KerasSwinTransformerBlock}, {@link KerasPatchMerging} and {@link KerasLayerNormMeanPooling}
 * ({@code KerasLayer.registerCustomLayer}); the model JSON is edited before DL4J parses it: Dense layers become
 * {@link KerasTokenAwareDense} (as for the ViT) and the final LayerNormalization with its GlobalAveragePooling1D
 * becomes one {@link KerasLayerNormMeanPooling}. The weights are read by walking each layer's HDF5 group (DL4J's
 * reader does not follow nested weight names such as {@code attn/qkv/kernel}). Input images are NHWC
 * {@code [B, H, W, C]} as in Keras.
 *
 * <p>Every failure is a one-line {@link CheckpointException} that names the file and, where it applies, the layer,
 * worded as the ViT loader's ({@link KerasFiles}).
 */
public final class KerasSwinTransformer {

    private static final String POOLING = "GlobalAveragePooling1D";
    private static final String LAYER_NORM = "LayerNormalization";

    private static boolean registered;

    private KerasSwinTransformer() {
    }

    /** Registers the Swin layer adapters (and the ViT's LayerNormalization and Dense) with DL4J's Keras import. */
    public static synchronized void registerKerasLayers() {
        if (registered) {
            return;
        }
        KerasVisionTransformer.registerKerasLayers();
        KerasLayer.registerCustomLayer(KerasPatchEmbed.KERAS_CLASS, KerasPatchEmbed.class);
        KerasLayer.registerCustomLayer(KerasSwinTransformerBlock.KERAS_CLASS, KerasSwinTransformerBlock.class);
        KerasLayer.registerCustomLayer(KerasPatchMerging.KERAS_CLASS, KerasPatchMerging.class);
        KerasLayer.registerCustomLayer(KerasLayerNormMeanPooling.KERAS_CLASS, KerasLayerNormMeanPooling.class);
        registered = true;
    }

    /**
     * Imports a Keras-2 {@code .h5} Swin Transformer (saved with {@code model.save}) as a ComputationGraph with its
     * weights. Input images are NHWC {@code [B, H, W, C]}; the output is the head's logits (or the features
     * {@code [B, C]} without a head).
     *
     * @throws CheckpointException (one line, naming the file and the layer) for unreadable files, unsupported layers
     *                             or settings and weights of the wrong shape
     */
    public static ComputationGraph importModel(Path h5) {
        String file = h5.getFileName().toString();
        try (Hdf5Archive archive = KerasFiles.openArchive(h5, file)) {
            KerasModel model = buildKerasModel(archive.readAttributeAsJson("model_config"), file);
            for (KerasLayer layer : model.getLayersOrdered()) {
                if (layer.getNumParams() > 0) {
                    layer.setWeights(KerasFiles.readLayerWeights(archive, file, layer.getLayerName()));
                }
            }
            return model.getComputationGraph();
        } catch (Exception e) {
            throw KerasFiles.failure(file, e);
        }
    }

    /** DL4J's KerasModel for the prepared JSON; synchronized because DL4J's custom layer registry is global. */
    private static synchronized KerasModel buildKerasModel(String modelJson, String file) throws Exception {
        registerKerasLayers();
        Map<String, Object> model = KerasModelUtils.parseJsonString(modelJson);
        prepare(model, file);
        return new KerasModel().modelBuilder().modelJson(new ObjectMapper().writeValueAsString(model))
                .enforceTrainingConfig(false).buildModel();
    }

    /**
     * Checks every layer's class, renames Dense layers to {@link KerasTokenAwareDense#KERAS_CLASS} and folds each
     * LayerNormalization → GlobalAveragePooling1D pair into one {@link KerasLayerNormMeanPooling}: the pooling layer
     * is removed and its readers read the norm.
     */
    private static void prepare(Map<String, Object> model, String file) throws Exception {
        List<Map<String, Object>> layers = KerasFiles.modelLayers(model, file);
        Map<String, Map<String, Object>> byName = new HashMap<>();
        Map<String, Integer> readers = new HashMap<>();
        for (Map<String, Object> layer : layers) {
            byName.put((String) layer.get("name"), layer);
            for (String inbound : inboundNames(layer)) {
                readers.merge(inbound, 1, Integer::sum);
            }
        }
        Map<String, String> folded = new HashMap<>();
        for (Map<String, Object> layer : layers) {
            String name = (String) layer.get("name");
            String kerasClass = (String) layer.get("class_name");
            if ("Dense".equals(kerasClass)) {
                layer.put("class_name", KerasTokenAwareDense.KERAS_CLASS);
            } else if (POOLING.equals(kerasClass)) {
                List<String> inputs = inboundNames(layer);
                Map<String, Object> norm = inputs.size() == 1 ? byName.get(inputs.get(0)) : null;
                if (norm == null || !LAYER_NORM.equals(norm.get("class_name")) || readers.get(inputs.get(0)) != 1) {
                    throw new CheckpointException(file + ": " + POOLING + " layer '" + name + "' must be the only "
                            + "reader of a LayerNormalization (Swin's final norm), but reads " + inputs);
                }
                norm.put("class_name", KerasLayerNormMeanPooling.KERAS_CLASS);
                folded.put(name, inputs.get(0));
            } else if (!supportedClasses().contains(kerasClass)) {
                throw KerasFiles.unsupportedClass(file, name, kerasClass);
            }
        }
        layers.removeIf(layer -> folded.containsKey((String) layer.get("name")));
        for (Map<String, Object> layer : layers) {
            rename(layer.get("inbound_nodes"), folded);
        }
        rename(KerasConfig.inner(model).get("output_layers"), folded);
    }

    /** DL4J's built-in classes and the registered sa2vp ones this layout uses. */
    private static Set<String> supportedClasses() {
        Set<String> names = new HashSet<>(KerasFiles.dl4jClasses());
        names.addAll(List.of(KerasPatchEmbed.KERAS_CLASS, KerasSwinTransformerBlock.KERAS_CLASS,
                KerasPatchMerging.KERAS_CLASS, KerasLayerNormalization.KERAS_CLASS));
        return names;
    }

    /** The layer names in a layer's {@code inbound_nodes} ({@code [[[name, node, tensor, kwargs], ...], ...]}). */
    private static List<String> inboundNames(Map<String, Object> layer) {
        List<String> names = new ArrayList<>();
        if (layer.get("inbound_nodes") instanceof List<?> nodes) {
            for (Object node : nodes) {
                if (node instanceof List<?> entries) {
                    for (Object entry : entries) {
                        if (entry instanceof List<?> parts && !parts.isEmpty() && parts.get(0) instanceof String n) {
                            names.add(n);
                        }
                    }
                }
            }
        }
        return names;
    }

    /** Replaces, in place, every layer name of a nested list that {@code renamed} maps. */
    @SuppressWarnings("unchecked")
    private static void rename(Object nested, Map<String, String> renamed) {
        if (nested instanceof List<?> list) {
            List<Object> items = (List<Object>) list;
            for (int i = 0; i < items.size(); i++) {
                if (items.get(i) instanceof String name && renamed.containsKey(name)) {
                    items.set(i, renamed.get(name));
                } else {
                    rename(items.get(i), renamed);
                }
            }
        }
    }
}
