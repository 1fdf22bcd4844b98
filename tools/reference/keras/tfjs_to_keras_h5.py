#!/usr/bin/python3
"""Turn the tfjs layers-model written by make_keras_vit.js or make_keras_swin.js into a Keras-2 .h5 file and the
reference outputs into an .npz, both byte-for-byte reproducible.

The .h5 has the layout of Keras 2 (TF 2.9) ``model.save("x.h5")`` without a training configuration:

* root attributes ``model_config`` (JSON), ``keras_version`` ("2.9.0") and ``backend``, all fixed-length byte
  strings: DL4J 1.0.0-M2.1 reads string attributes through the attribute's own type into a byte buffer, so a
  variable-length string would come back as a pointer, and it reads ``keras_version`` into a 5-byte buffer
  ("2.11.0" would overflow it);
* group ``model_weights`` with attributes ``layer_names``, ``backend``, ``keras_version``;
* one group per layer, ``model_weights/<layer>``, with a ``weight_names`` attribute (``<layer>/<weight>:0``,
  empty for layers without weights), and each weight stored at ``model_weights/<layer>/<layer>/<weight>:0``
  (so nested names such as ``query/kernel`` and layer names containing '/' become nested groups, as in Keras).

tfjs writes integer-valued floats as JSON integers (``"dropout": 0``); those fields are coerced back to floats,
as Python Keras would have written them. tfjs also turns string values into snake case; the Swin layers'
``normalize`` field is written back as the Keras class name ``LayerNormalization``.

Usage: /usr/bin/python3 tfjs_to_keras_h5.py <tfjs-dir> <fixture-dir> [vit|swin]   (default vit)
"""
import json
import re
import sys
import zipfile
from pathlib import Path

import h5py
import numpy as np

KERAS_VERSION = "2.9.0"
BACKEND = "tensorflow"
# Per model: the fixture files, and the layer that the "unsupported layer" fixture (the same topology without
# weights) replaces by a class the importer does not support, with that class's config.
MODELS = {
    # ViT: the second residual Add of block 0 becomes keras-cv's StochasticDepth
    "vit": {"h5": "vit_tiny.h5", "npz": "vit_tiny_reference.npz", "unsupported": "vit_tiny_unsupported_layer.h5",
            "layer": "encoderblock_0_add2", "class": "StochasticDepth", "config": {"rate": 0.1}},
    # Swin: the second block of stage 0 becomes SwinTransformer-Tensorflow2's DropPath
    "swin": {"h5": "swin_tiny.h5", "npz": "swin_tiny_reference.npz", "unsupported": "swin_tiny_unsupported_layer.h5",
             "layer": "layers_0_blocks_1", "class": "DropPath", "config": {"rate": 0.1},
             # the same weights as a PyTorch state dict in Microsoft's names (the checkpoint route's fixture)
             "state_dict": "swin_tiny_microsoft.npz"},
}

# Keras config fields that hold floats (Keras writes 0.0 where JavaScript writes 0).
FLOAT_FIELDS = {"epsilon", "dropout", "rate", "momentum", "l1", "l2", "stddev", "mean", "minval", "maxval",
                "scale", "gain", "alpha", "max_value", "negative_slope", "threshold", "theta", "recurrent_dropout",
                "noise_shape_rate", "value", "min_value", "max_norm", "ratio", "dropout_rate",
                "attention_dropout_rate", "droppath_rate"}
# Fields holding a Python class that tfjs writes in snake case, with the name Keras writes.
CLASS_FIELDS = {"normalize": {"layer_normalization": "LayerNormalization"}}


def coerce_floats(node):
    """Recursively turns integer values of FLOAT_FIELDS into floats and restores the names of CLASS_FIELDS."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in FLOAT_FIELDS and isinstance(value, int) and not isinstance(value, bool):
                node[key] = float(value)
            elif key in CLASS_FIELDS and isinstance(value, str):
                node[key] = CLASS_FIELDS[key].get(value, value)
            else:
                coerce_floats(value)
    elif isinstance(node, list):
        for item in node:
            coerce_floats(item)
    return node


def keras_model_config(topology):
    """The Keras JSON of a functional model: class "Functional" (TF >= 2.4), Keras version and backend."""
    config = coerce_floats(json.loads(json.dumps(topology["config"])))
    return {"class_name": "Functional", "config": config, "keras_version": KERAS_VERSION, "backend": BACKEND}


def read_weights(tfjs_dir, manifest):
    """Weight name -> float32 array, in manifest order (tfjs stores them back to back, little-endian)."""
    blob = (tfjs_dir / "weights.bin").read_bytes()
    weights = {}
    offset = 0
    for spec in manifest[0]["weights"]:
        if spec["dtype"] != "float32":
            raise ValueError(f"{spec['name']}: dtype {spec['dtype']}, expected float32")
        count = int(np.prod(spec["shape"])) if spec["shape"] else 1
        weights[spec["name"]] = np.frombuffer(blob, dtype="<f4", count=count, offset=offset).reshape(spec["shape"])
        offset += 4 * count
    if offset != len(blob):
        raise ValueError(f"weights.bin has {len(blob)} bytes, the manifest describes {offset}")
    return weights


def write_h5(path, model_config, weights):
    layers = [layer["name"] for layer in model_config["config"]["layers"]]
    with h5py.File(path, "w", track_order=False) as f:
        f.attrs["model_config"] = np.bytes_(json.dumps(model_config).encode("utf8"))
        f.attrs["keras_version"] = np.bytes_(KERAS_VERSION.encode("utf8"))
        f.attrs["backend"] = np.bytes_(BACKEND.encode("utf8"))
        root = f.create_group("model_weights")
        root.attrs["layer_names"] = np.array([name.encode("utf8") for name in layers])
        root.attrs["backend"] = np.bytes_(BACKEND.encode("utf8"))
        root.attrs["keras_version"] = np.bytes_(KERAS_VERSION.encode("utf8"))
        for layer in layers:
            group = root.create_group(layer)
            names = [name for name in weights if name.startswith(layer + "/")
                     and "/".join(name.split("/")[:layer.count("/") + 1]) == layer]
            # Keras stores an empty float array when a layer has no weights.
            group.attrs["weight_names"] = np.array([f"{name}:0".encode("utf8") for name in names]) if names else []
            for name in names:
                group.create_dataset(f"{name}:0", data=np.ascontiguousarray(weights[name], dtype="<f4"),
                                     track_times=False)
    unused = [name for name in weights if not any(name.startswith(layer + "/") for layer in layers)]
    if unused:
        raise ValueError(f"weights without a layer: {unused}")


def with_unsupported_layer(model_config, model):
    """A copy of the model JSON in which the model's "layer" has the unsupported "class" and "config"."""
    config = json.loads(json.dumps(model_config))
    for layer in config["config"]["layers"]:
        if layer["name"] == model["layer"]:
            layer["class_name"] = model["class"]
            layer["config"] = {"name": model["layer"], "trainable": True, "dtype": "float32", **model["config"]}
            return config
    raise ValueError(f"no layer {model['layer']}")


def microsoft_swin_state_dict(weights):
    """The Keras Swin weights under Microsoft's PyTorch names and layouts, by the rule SwinTransformer-Tensorflow2
    loads those checkpoints with: layer "layers_i_blocks_j" / "layers_i_downsample" is module "layers.i.blocks.j" /
    "layers.i.downsample", "/" becomes ".", gamma/beta become weight/bias, a Dense kernel [in, out] becomes
    weight [out, in] and a Conv2D kernel [kh, kw, C, D] weight [D, C, kh, kw]."""
    out = {}
    for name, value in weights.items():
        layer, *path = name.split("/")
        module = re.sub(r"^layers_(\d+)_blocks_(\d+)$", r"layers.\1.blocks.\2", layer)
        module = re.sub(r"^layers_(\d+)_downsample$", r"layers.\1.downsample", module)
        leaf = {"gamma": "weight", "beta": "bias", "kernel": "weight"}.get(path[-1], path[-1])
        if path[-1] == "kernel":
            value = value.transpose(3, 2, 0, 1) if value.ndim == 4 else value.T
        out[".".join([module, *path[:-1], leaf])] = value
    return out


def write_npz(path, arrays):
    """np.savez's layout (uncompressed, one <key>.npy per array) with a fixed timestamp, so reruns are identical."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            with archive.open(info, "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, np.ascontiguousarray(array, dtype="<f4"), allow_pickle=False)


def read_reference(tfjs_dir):
    meta = json.loads((tfjs_dir / "reference.json").read_text())
    blob = (tfjs_dir / "reference.bin").read_bytes()
    return {entry["name"]: np.frombuffer(blob, dtype="<f4", count=entry["bytes"] // 4, offset=entry["offset"])
            .reshape(entry["shape"]) for entry in meta["arrays"]}


def main():
    if len(sys.argv) not in (3, 4) or (len(sys.argv) == 4 and sys.argv[3] not in MODELS):
        sys.exit(__doc__)
    tfjs_dir, fixture_dir = Path(sys.argv[1]), Path(sys.argv[2])
    names = MODELS[sys.argv[3] if len(sys.argv) == 4 else "vit"]
    fixture_dir.mkdir(parents=True, exist_ok=True)
    model = json.loads((tfjs_dir / "model.json").read_text())
    model_config = keras_model_config(model["modelTopology"])
    weights = read_weights(tfjs_dir, model["weightsManifest"])
    write_h5(fixture_dir / names["h5"], model_config, weights)
    write_h5(fixture_dir / names["unsupported"], with_unsupported_layer(model_config, names), {})
    write_npz(fixture_dir / names["npz"], read_reference(tfjs_dir))
    if "state_dict" in names:
        write_npz(fixture_dir / names["state_dict"], microsoft_swin_state_dict(weights))
    print(f"wrote {fixture_dir / names['h5']} ({len(weights)} weights), {fixture_dir / names['unsupported']} and "
          f"{fixture_dir / names['npz']}")


if __name__ == "__main__":
    main()
