#!/usr/bin/python3
"""Write cnn_tiny.h5: a Keras-2 functional model that is neither a ViT nor a Swin (Input -> Conv2D ->
GlobalAveragePooling2D -> Dense), saved as tfjs_to_keras_h5.py saves the other fixtures but without weights: the
fixture for the one-line error of a Keras file of no known backbone layout, which is told from the layer classes
before any weight is read.

Usage: /usr/bin/python3 make_keras_cnn.py <fixture-dir>
"""
import sys
from pathlib import Path

from tfjs_to_keras_h5 import keras_model_config, write_h5


def layer(class_name, name, config, inbound):
    return {"class_name": class_name, "name": name, "config": {"name": name, "trainable": True, "dtype": "float32",
                                                                **config},
            "inbound_nodes": [[[inbound, 0, 0, {}]]] if inbound else []}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    layers = [
        layer("InputLayer", "input_1", {"batch_input_shape": [None, 32, 32, 3], "sparse": False, "ragged": False},
              None),
        layer("Conv2D", "conv", {"filters": 8, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same",
                                 "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1,
                                 "activation": "relu", "use_bias": True}, "input_1"),
        layer("GlobalAveragePooling2D", "pool", {"data_format": "channels_last", "keepdims": False}, "conv"),
        layer("Dense", "head", {"units": 10, "activation": "linear", "use_bias": True}, "pool"),
    ]
    topology = {"config": {"name": "cnn_tiny", "layers": layers, "input_layers": [["input_1", 0, 0]],
                           "output_layers": [["head", 0, 0]]}}
    out = Path(sys.argv[1]) / "cnn_tiny.h5"
    write_h5(out, keras_model_config(topology), {})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
