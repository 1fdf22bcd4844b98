package org.sa2vp.backbone.vit;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.TestFixtures;
import org.sa2vp.backbone.weights.NpzReader;
import org.sa2vp.backbone.weights.SafetensorsReader;
import org.sa2vp.backbone.weights.StateDict;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The ViT checkpoints made by {@code tools/reference/vit/make_vit_fixtures.py} from a torchvision
 * {@code VisionTransformer(image 32, patch 8, 2 layers, 2 heads, width 32, MLP 64, 10 classes)} with random
 * weights (exported by torch 1.13), and its outputs on {@code input.npy}.
 */
public final class VitFixtures {

    public static final int HEADS = 2;

    private VitFixtures() {
    }

    public static Path file(String name) {
        return TestFixtures.file("vit", name, "tools/reference/vit/make_vit_fixtures.py");
    }

    /** The model input {@code [2, 3, 32, 32]}. */
    public static INDArray input() {
        return NpzReader.readNpy(file("input.npy"));
    }

    /** torchvision's {@code features} {@code [2, 32]} and {@code logits} {@code [2, 10]} on {@link #input()}. */
    public static StateDict reference() {
        return NpzReader.readNpz(file("reference.npz"));
    }

    /** An npz fixture's arrays (float32, C order) in archive order, i.e. the state dict's order. */
    public static Map<String, INDArray> npz(String name) {
        return NpzReader.readNpz(file(name)).tensors();
    }

    public static List<String> npzKeyOrder(String name) {
        return List.copyOf(NpzReader.readNpz(file(name)).keys());
    }

    public static Map<String, INDArray> safetensors(String name) {
        return SafetensorsReader.read(file(name)).tensors();
    }
}
