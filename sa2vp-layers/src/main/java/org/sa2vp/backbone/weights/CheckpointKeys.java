package org.sa2vp.backbone.weights;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The tensor names of a checkpoint file, read without its tensors (a {@code .safetensors} header, an {@code .npz}
 * directory), so that a backbone family can say whether a file is its own before anything large is read.
 */
public final class CheckpointKeys {

    private CheckpointKeys() {
    }

    /**
     * The names in {@code file} (of a {@code .pth}, its state dict's); empty for formats whose names are not a state
     * dict's ({@code .onnx}, Keras {@code .h5}) and for files that are not a readable checkpoint (their reader reports
     * why).
     */
    public static Optional<List<String>> of(Path file) {
        try {
            return switch (CheckpointFormat.detect(file)) {
                case NPZ -> Optional.of(NpzReader.keys(file));
                case SAFETENSORS -> Optional.of(SafetensorsReader.keys(file));
                case PTH -> Optional.of(PthReader.keys(file));
                case ONNX, KERAS_H5 -> Optional.empty();
            };
        } catch (CheckpointException e) {
            return Optional.empty();
        }
    }
}
