#!/bin/sh
# Regenerates the Keras ViT and Swin fixtures of sa2vp-layers (see README.md). Run from anywhere; needs npm and
# /usr/bin/python3 with numpy and h5py.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../../../sa2vp-layers/src/test/resources/fixtures/keras"
cd "$here"
npm ci --no-audit --no-fund
node make_keras_vit.js build/vit
/usr/bin/python3 tfjs_to_keras_h5.py build/vit "$out" vit
node make_keras_swin.js build/swin
/usr/bin/python3 tfjs_to_keras_h5.py build/swin "$out" swin
/usr/bin/python3 make_keras_cnn.py "$out"
