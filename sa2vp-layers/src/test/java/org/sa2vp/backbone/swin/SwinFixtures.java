package org.sa2vp.backbone.swin;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.TestFixtures;
import org.sa2vp.backbone.weights.NpzReader;
import org.sa2vp.backbone.weights.StateDict;

import java.nio.file.Path;

/**
 * The Swin checkpoints made by {@code tools/reference/swin/make_swin_fixtures.py} from a torchvision
 * {@code SwinTransformer(patch 4, embed dim 4, depths [2, 2, 2, 2], heads [1, 2, 2, 4], window 4, 10 classes)} with
 * random weights (torch 1.13, torchvision 0.14), and its outputs on {@code input.npy} (40×40) and
 * {@code input_wide.npy} (36×68).
 */
public final class SwinFixtures {

    public static final int IMAGE = 40;
    public static final int WIDE_HEIGHT = 36;
    public static final int WIDE_WIDTH = 68;

    private SwinFixtures() {
    }

    public static Path file(String name) {
        return TestFixtures.file("swin", name, "tools/reference/swin/make_swin_fixtures.py");
    }

    /** The 40×40 input {@code [2, 3, 40, 40]}. */
    public static INDArray input() {
        return NpzReader.readNpy(file("input.npy"));
    }

    /** The 36×68 input {@code [2, 3, 36, 68]}. */
    public static INDArray wideInput() {
        return NpzReader.readNpy(file("input_wide.npy"));
    }

    /**
     * torchvision's {@code logits [2, 10]}, {@code features [2, 32]} (and {@code _wide} on the 36×68 input), and each
     * stage's output map {@code stage0} … {@code stage3} {@code [2, H·W, C]} on the 40×40 input.
     */
    public static StateDict reference() {
        return NpzReader.readNpz(file("reference.npz"));
    }
}
