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
     * The names in {@code file} (of a {@code .pth}, its state dict's; of an {@code .onnx} torch export, the parameter
     * names it keeps, {@link OnnxWeights#parameterNames}, which lack the Linear weights the exporter renamed but are
     * enough to tell the family and naming); empty for Keras {@code .h5} files, whose names are not a state dict's,
     * and for files that are not a readable checkpoint (their reader reports why).
     */
    public static Optional<List<String>> of(Path file) {
        try {
            return switch (CheckpointFormat.detect(file)) {
                case NPZ -> Optional.of(NpzReader.keys(file));
                case SAFETENSORS -> Optional.of(SafetensorsReader.keys(file));
                case PTH -> Optional.of(PthReader.keys(file));
                case ONNX -> Optional.of(OnnxWeights.parameterNames(OnnxModel.read(file)));
                case KERAS_H5 -> Optional.empty();
            };
        } catch (CheckpointException e) {
            return Optional.empty();
        }
    }
}
