package org.sa2vp.backbone.vit;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.backbone.weights.NpzReader;
import org.sa2vp.backbone.weights.StateDict;

import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * The ViT checkpoints made by {@code tools/reference/vit/make_vit_fixtures.py} from a torchvision
 * {@code VisionTransformer(image 32, patch 8, 2 layers, 2 heads, width 32, MLP 64, 10 classes)} with random
 * weights, and its outputs on {@code input.npy}.
 */
final class VitFixtures {

    static final int HEADS = 2;

    private VitFixtures() {
    }

    static Path file(String name) {
        try {
            return Path.of(VitFixtures.class.getResource("/fixtures/vit/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing test fixture fixtures/vit/" + name, e);
        }
    }

    static INDArray input() {
        return NpzReader.readNpy(file("input.npy"));
    }

    static StateDict reference() {
        return NpzReader.readNpz(file("reference.npz"));
    }

    static double maxAbsDiff(INDArray a, INDArray b) {
        return a.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE)
                .sub(b.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE)).amaxNumber().doubleValue();
    }
}
