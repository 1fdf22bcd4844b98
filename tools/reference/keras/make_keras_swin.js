// Builds a tiny functional Keras Swin Transformer with pure-JS TensorFlow.js (no TensorFlow, no native code), fills
// it with deterministic random weights, runs it on a fixed input and writes, as make_keras_vit.js does:
//   <out>/model.json + <out>/weights.bin   the tfjs layers-model (a Keras topology plus a weights manifest)
//   <out>/reference.json + reference.bin   input and outputs as raw little-endian float32 with their shapes
// tfjs_to_keras_h5.py (argument "swin") turns both into the Keras-2 .h5 and the .npz fixture.
//
// Layer classes, config fields and weight names are those of the Keras layers PatchEmbed, SwinTransformerBlock and
// PatchMerging of github.com/Burf/SwinTransformer-Tensorflow2 (Microsoft's module names: proj, norm, norm1,
// attn/qkv, attn/proj, attn/relative_position_bias_table, norm2, mlp/fc1, mlp/fc2, reduction), used one layer per
// block in a functional model. The math is written here from the Swin paper and Microsoft's reference:
//   Input [32,32,3] "input_1"
//   PatchEmbed(patch 2, 16 features) "patch_embed"                  -> [B, 16x16, 16]
//   SwinTransformerBlock(16x16, 2 heads, window 4, shift 0 | 2, ratio 2) "layers_0_blocks_0", "layers_0_blocks_1"
//   PatchMerging(16x16) "layers_0_downsample"                         -> [B, 8x8, 32]
//   SwinTransformerBlock(8x8, 4 heads, window 4, shift 0 | 2, ratio 2) "layers_1_blocks_0", "layers_1_blocks_1"
//   LayerNormalization(1e-5) "norm", GlobalAveragePooling1D "avgpool", Dense(10) "head"
//
// Usage: node make_keras_swin.js <out-dir>
'use strict';

const fs = require('fs');
const tf = require('@tensorflow/tfjs');
const {rng, normal, randomiseWeights, saveLayersModel, writeReference} = require('./fixture_common');

const IMAGE = 32, CHANNELS = 3, PATCH = 2, EMBED = 16, DEPTHS = [2, 2], HEADS = [2, 4], WINDOW = 4, RATIO = 2;
const CLASSES = 10, BATCH = 2, EPS = 1e-5;

// ------------------------------------------------------------------------------------------- shared math

/** LayerNorm over the last axis: (x - mean) / sqrt(var + eps) * gamma + beta (biased variance, as Keras). */
function layerNorm(x, gamma, beta) {
  const mean = tf.mean(x, -1, true);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), -1, true);
  return tf.add(tf.mul(tf.div(centred, tf.sqrt(tf.add(variance, EPS))), gamma.read()), beta.read());
}

/** x [..., in] · kernel [in, out] (+ bias [out]). */
function dense(x, kernel, bias) {
  const shape = x.shape;
  const k = kernel.read();
  let y = tf.matMul(tf.reshape(x, [-1, shape[shape.length - 1]]), k);
  if (bias) y = tf.add(y, bias.read());
  return tf.reshape(y, [...shape.slice(0, -1), k.shape[1]]);
}

/** Exact GELU x·Φ(x), Keras's default (approximate=False). */
function gelu(x) {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2))));
}

/** tf.roll(x, -shift, axis) of a [B, H, W, C] map: [shift, size) then [0, shift). */
function rollBack(x, shift, axis) {
  const size = x.shape[axis];
  const s = ((shift % size) + size) % size;
  if (s === 0) return x;
  const begin = [0, 0, 0, 0], head = x.shape.slice(), tail = x.shape.slice();
  const tailBegin = begin.slice();
  tailBegin[axis] = s;
  tail[axis] = size - s;
  head[axis] = s;
  return tf.concat([tf.slice(x, tailBegin, tail), tf.slice(x, begin, head)], axis);
}

/** [B, H, W, C] -> [B·nW, w·w, C], windows in row-major order. */
function windowPartition(x, w) {
  const [b, h, wd, c] = x.shape;
  return tf.reshape(tf.transpose(tf.reshape(x, [b, h / w, w, wd / w, w, c]), [0, 1, 3, 2, 4, 5]), [-1, w * w, c]);
}

/** The inverse of windowPartition. */
function windowReverse(x, w, b, h, wd) {
  const c = x.shape[2];
  return tf.reshape(tf.transpose(tf.reshape(x, [b, h / w, wd / w, w, w, c]), [0, 1, 3, 2, 4, 5]), [b, h, wd, c]);
}

/** The relative position index [w², w²] into the (2w−1)² table rows: (dy + w − 1)·(2w − 1) + dx + w − 1. */
function relativePositionIndex(w) {
  const n = w * w;
  const index = new Int32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const dy = Math.floor(i / w) - Math.floor(j / w), dx = (i % w) - (j % w);
      index[i * n + j] = (dy + w - 1) * (2 * w - 1) + dx + w - 1;
    }
  }
  return index;
}

/** The shift mask [nW, w², w²]: −100 between tokens of different regions of the shifted map, 0 within one. */
function shiftMask(h, wd, w, shift) {
  const region = new Float32Array(h * wd);
  const band = (v, size) => (v < size - w ? 0 : v < size - shift ? 1 : 2);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < wd; x++) region[y * wd + x] = band(y, h) * 3 + band(x, wd);
  }
  const windows = windowPartition(tf.tensor(region, [1, h, wd, 1]), w).dataSync();
  const nW = (h / w) * (wd / w), n = w * w;
  const mask = new Float32Array(nW * n * n);
  for (let k = 0; k < nW; k++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) mask[(k * n + i) * n + j] = windows[k * n + i] === windows[k * n + j] ? 0 : -100;
    }
  }
  return tf.tensor(mask, [nW, n, n]);
}

const NO_CONSTRAINTS = {normalize: 'LayerNormalization'};

// ------------------------------------------------------------------------------------ custom Keras layers

/** PatchEmbed: Conv2D(D, P, stride P) "proj" on NHWC images, flattened to [B, (H/P)·(W/P), D], LayerNorm "norm". */
class PatchEmbed extends tf.layers.Layer {
  static className = 'PatchEmbed';

  constructor(args) {
    super(args);
    this.patchSize = args.patchSize;
    this.nFeature = args.nFeature;
  }

  build(inputShape) {
    const [p, q] = this.patchSize, c = inputShape[3];
    this.kernel = this.addWeight('proj/kernel', [p, q, c, this.nFeature], 'float32', tf.initializers.zeros());
    this.bias = this.addWeight('proj/bias', [this.nFeature], 'float32', tf.initializers.zeros());
    this.gamma = this.addWeight('norm/gamma', [this.nFeature], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('norm/beta', [this.nFeature], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  computeOutputShape(inputShape) {
    const [p, q] = this.patchSize;
    return [inputShape[0], (inputShape[1] / p) * (inputShape[2] / q), this.nFeature];
  }

  call(inputs) {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const conv = tf.add(tf.conv2d(x, this.kernel.read(), this.patchSize, 'valid'), this.bias.read());
      const [b, h, w, d] = conv.shape;
      return layerNorm(tf.reshape(conv, [b, h * w, d]), this.gamma, this.beta);
    });
  }

  getConfig() {
    return Object.assign({patchSize: this.patchSize, nFeature: this.nFeature}, NO_CONSTRAINTS, super.getConfig());
  }
}
tf.serialization.registerClass(PatchEmbed);

/**
 * SwinTransformerBlock on [B, h·w, C]: x + proj(W-MSA(norm1(x))), then y + fc2(GELU(fc1(norm2(y)))). Window
 * attention with the relative position bias table, cyclic shift by -shift_size (and the −100 shift mask) when
 * shift_size > 0; qkv is one Dense [C, 3C] whose columns are q, k, v, each split into heads.
 */
class SwinTransformerBlock extends tf.layers.Layer {
  static className = 'SwinTransformerBlock';

  constructor(args) {
    super(args);
    this.imageShape = args.imageShape;
    this.nHead = args.nHead;
    this.windowSize = args.windowSize;
    this.shiftSize = args.shiftSize;
    this.ratio = args.ratio;
  }

  build(inputShape) {
    const c = inputShape[2], w = this.windowSize, m = Math.floor(c * this.ratio);
    const zeros = tf.initializers.zeros(), ones = tf.initializers.ones();
    this.norm1Gamma = this.addWeight('norm1/gamma', [c], 'float32', ones);
    this.norm1Beta = this.addWeight('norm1/beta', [c], 'float32', zeros);
    this.table = this.addWeight('attn/relative_position_bias_table', [(2 * w - 1) * (2 * w - 1), this.nHead],
      'float32', zeros);
    this.qkvKernel = this.addWeight('attn/qkv/kernel', [c, 3 * c], 'float32', zeros);
    this.qkvBias = this.addWeight('attn/qkv/bias', [3 * c], 'float32', zeros);
    this.projKernel = this.addWeight('attn/proj/kernel', [c, c], 'float32', zeros);
    this.projBias = this.addWeight('attn/proj/bias', [c], 'float32', zeros);
    this.norm2Gamma = this.addWeight('norm2/gamma', [c], 'float32', ones);
    this.norm2Beta = this.addWeight('norm2/beta', [c], 'float32', zeros);
    this.fc1Kernel = this.addWeight('mlp/fc1/kernel', [c, m], 'float32', zeros);
    this.fc1Bias = this.addWeight('mlp/fc1/bias', [m], 'float32', zeros);
    this.fc2Kernel = this.addWeight('mlp/fc2/kernel', [m, c], 'float32', zeros);
    this.fc2Bias = this.addWeight('mlp/fc2/bias', [c], 'float32', zeros);
    this.index = relativePositionIndex(w);
    this.mask = this.shiftSize > 0 ? shiftMask(this.imageShape[0], this.imageShape[1], w, this.shiftSize) : null;
    this.built = true;
  }

  computeOutputShape(inputShape) {
    return inputShape;
  }

  call(inputs) {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const [b, t, c] = x.shape, [h, wd] = this.imageShape, w = this.windowSize, n = w * w;
      const heads = this.nHead, dh = c / heads, shift = this.shiftSize;
      let map = tf.reshape(layerNorm(x, this.norm1Gamma, this.norm1Beta), [b, h, wd, c]);
      map = rollBack(rollBack(map, shift, 1), shift, 2);
      const windows = windowPartition(map, w);                                         // [B·nW, N, C]
      const qkv = tf.transpose(tf.reshape(dense(windows, this.qkvKernel, this.qkvBias), [-1, n, 3, heads, dh]),
        [2, 0, 3, 1, 4]);                                                               // [3, B·nW, H, N, dh]
      const [q, k, v] = tf.unstack(qkv, 0);
      const bias = tf.transpose(tf.reshape(tf.gather(this.table.read(), tf.tensor(this.index, [n * n], 'int32')),
        [n, n, heads]), [2, 0, 1]);                                                     // [H, N, N]
      let scores = tf.add(tf.matMul(tf.mul(q, 1 / Math.sqrt(dh)), k, false, true), bias);
      if (this.mask) {
        const nW = this.mask.shape[0];
        scores = tf.reshape(tf.add(tf.reshape(scores, [b, nW, heads, n, n]), tf.reshape(this.mask, [1, nW, 1, n, n])),
          [-1, heads, n, n]);
      }
      const attended = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores, -1), v), [0, 2, 1, 3]), [-1, n, c]);
      let back = windowReverse(dense(attended, this.projKernel, this.projBias), w, b, h, wd);
      back = rollBack(rollBack(back, -shift, 1), -shift, 2);
      const y = tf.add(x, tf.reshape(back, [b, t, c]));
      const hidden = gelu(dense(layerNorm(y, this.norm2Gamma, this.norm2Beta), this.fc1Kernel, this.fc1Bias));
      return tf.add(y, dense(hidden, this.fc2Kernel, this.fc2Bias));
    });
  }

  getConfig() {
    return Object.assign({
      imageShape: this.imageShape,
      nHead: this.nHead,
      windowSize: this.windowSize,
      shiftSize: this.shiftSize,
      ratio: this.ratio,
      scale: null,
      useBias: true,
      dropoutRate: 0,
      attentionDropoutRate: 0,
      droppathRate: 0,
      activation: 'gelu',
    }, NO_CONSTRAINTS, super.getConfig());
  }
}
tf.serialization.registerClass(SwinTransformerBlock);

/**
 * PatchMerging on [B, h·w, C]: the 2×2 neighbours concatenated as x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2],
 * x[1::2, 1::2] (rows first) -> [B, h/2·w/2, 4C], LayerNorm "norm", Dense(2C, no bias) "reduction".
 */
class PatchMerging extends tf.layers.Layer {
  static className = 'PatchMerging';

  constructor(args) {
    super(args);
    this.imageShape = args.imageShape;
  }

  build(inputShape) {
    const c = inputShape[2];
    this.gamma = this.addWeight('norm/gamma', [4 * c], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('norm/beta', [4 * c], 'float32', tf.initializers.zeros());
    this.kernel = this.addWeight('reduction/kernel', [4 * c, 2 * c], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  computeOutputShape(inputShape) {
    return [inputShape[0], inputShape[1] / 4, inputShape[2] * 2];
  }

  call(inputs) {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const [b, , c] = x.shape, [h, w] = this.imageShape;
      const map = tf.reshape(x, [b, h, w, c]);
      const pick = (dy, dx) => tf.stridedSlice(map, [0, dy, dx, 0], [b, h, w, c], [1, 2, 2, 1]);
      const merged = tf.reshape(tf.concat([pick(0, 0), pick(1, 0), pick(0, 1), pick(1, 1)], -1),
        [b, (h / 2) * (w / 2), 4 * c]);
      return dense(layerNorm(merged, this.gamma, this.beta), this.kernel, null);
    });
  }

  getConfig() {
    return Object.assign({imageShape: this.imageShape}, NO_CONSTRAINTS, super.getConfig());
  }
}
tf.serialization.registerClass(PatchMerging);

// ------------------------------------------------------------------------------------------------- model

/** Mean and standard deviation of each weight, chosen so that activations and logits stay O(1). */
function distribution(weightName, shape) {
  const leaf = weightName.split('/').pop();
  if (leaf === 'gamma') return [1.0, 0.1];
  if (leaf === 'beta' || leaf === 'bias') return [0.0, 0.1];
  if (leaf === 'relative_position_bias_table') return [0.0, 0.5];
  return [0.0, 1.0 / Math.sqrt(shape.slice(0, -1).reduce((a, b) => a * b, 1))];     // kernels: N(0, 1/sqrt(fan_in))
}

function buildModel() {
  const input = tf.input({shape: [IMAGE, IMAGE, CHANNELS], name: 'input_1'});
  let y = new PatchEmbed({patchSize: [PATCH, PATCH], nFeature: EMBED, name: 'patch_embed'}).apply(input);
  let side = IMAGE / PATCH, width = EMBED;
  for (let stage = 0; stage < DEPTHS.length; stage++) {
    if (stage > 0) {
      y = new PatchMerging({imageShape: [side, side], name: `layers_${stage - 1}_downsample`}).apply(y);
      side /= 2;
      width *= 2;
    }
    for (let block = 0; block < DEPTHS[stage]; block++) {
      y = new SwinTransformerBlock({imageShape: [side, side], nHead: HEADS[stage], windowSize: WINDOW,
        shiftSize: block % 2 === 0 ? 0 : WINDOW / 2, ratio: RATIO, name: `layers_${stage}_blocks_${block}`}).apply(y);
    }
  }
  const normed = tf.layers.layerNormalization({epsilon: EPS, name: 'norm'}).apply(y);
  const features = tf.layers.globalAveragePooling1d({name: 'avgpool'}).apply(normed);
  const logits = tf.layers.dense({units: CLASSES, name: 'head'}).apply(features);
  return {
    model: tf.model({inputs: input, outputs: logits, name: 'swin_tiny'}),
    probe: tf.model({inputs: input, outputs: [logits, features]}),
  };
}

async function main() {
  const out = process.argv[2];
  if (!out) {
    throw new Error('usage: node make_keras_swin.js <out-dir>');
  }
  fs.mkdirSync(out, {recursive: true});
  await tf.setBackend('cpu');
  const {model, probe} = buildModel();
  randomiseWeights(model, 20261207, distribution);
  await saveLayersModel(model, out);
  const input = tf.tensor(normal(rng(11), BATCH * IMAGE * IMAGE * CHANNELS, 0, 1), [BATCH, IMAGE, IMAGE, CHANNELS]);
  const [logits, features] = probe.predict(input);
  writeReference({input, logits, features}, out);
  const l = logits.dataSync();
  console.log(`tfjs ${tf.version.tfjs}: ${model.countParams()} parameters, logits[0] = ` +
    Array.from(l.slice(0, CLASSES)).map((v) => v.toFixed(4)).join(' '));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
