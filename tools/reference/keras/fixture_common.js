// What make_keras_vit.js and make_keras_swin.js share: the seeded random numbers (so fixtures do not depend on
// tfjs's random streams), filling a model's weights, and writing the tfjs layers-model and the reference outputs
// that tfjs_to_keras_h5.py converts.
'use strict';

const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

/** mulberry32: a tiny seeded PRNG. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n normal samples N(mean, std) by Box-Muller. */
function normal(next, n, mean, std) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u1 = Math.max(next(), 1e-12), u2 = next();
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = mean + std * r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < n) out[i + 1] = mean + std * r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** Overwrites every weight, in model order, with N(mean, std) samples; distribution(name, shape) -> [mean, std]. */
function randomiseWeights(model, seed, distribution) {
  const next = rng(seed);
  for (const w of model.weights) {
    const [mean, std] = distribution(w.originalName, w.shape);
    const n = w.shape.reduce((a, b) => a * b, 1);
    w.write(tf.tensor(normal(next, n, mean, std), w.shape));
  }
}

/** Writes <out>/model.json (Keras topology + weights manifest) and <out>/weights.bin. */
async function saveLayersModel(model, out) {
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const modelJson = {
      modelTopology: artifacts.modelTopology,
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
      weightsManifest: [{paths: ['weights.bin'], weights: artifacts.weightSpecs}],
    };
    fs.writeFileSync(path.join(out, 'model.json'), JSON.stringify(modelJson, null, 1));
    fs.writeFileSync(path.join(out, 'weights.bin'), Buffer.from(artifacts.weightData));
    return {modelArtifactsInfo: {dateSaved: new Date(0), modelTopologyType: 'JSON'}};
  }));
}

/** Writes the named tensors as raw little-endian float32 (reference.bin) with their shapes (reference.json). */
function writeReference(arrays, out) {
  const entries = [];
  const buffers = [];
  let offset = 0;
  for (const [name, t] of Object.entries(arrays)) {
    const data = Buffer.from(new Float32Array(t.dataSync()).buffer);
    entries.push({name, shape: t.shape, offset, bytes: data.length});
    buffers.push(data);
    offset += data.length;
  }
  fs.writeFileSync(path.join(out, 'reference.bin'), Buffer.concat(buffers));
  fs.writeFileSync(path.join(out, 'reference.json'), JSON.stringify({arrays: entries}, null, 1));
}

module.exports = {rng, normal, randomiseWeights, saveLayersModel, writeReference};
