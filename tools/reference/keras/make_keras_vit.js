// Builds a tiny functional Keras ViT with pure-JS TensorFlow.js (no TensorFlow, no native code), fills it with
// deterministic random weights, runs it on a fixed input and writes:
//   <out>/model.json + <out>/weights.bin   the tfjs layers-model (a Keras topology plus a weights manifest)
//   <out>/reference.json + reference.bin   input and outputs as raw little-endian float32 with their shapes
// tfjs_to_keras_h5.py turns both into the Keras-2 .h5 and the .npz fixture.
//
// Architecture (vit-keras / keras-io layer types, pre-LN blocks):
//   Input [32,32,3] -> Conv2D(32, 8x8, stride 8) "embedding" -> Reshape [16,32] -> ClassToken "class_token"
//   -> AddPositionEmbs "Transformer/posembed_input" -> 2 x { LayerNormalization(1e-6) -> MultiHeadAttention(2 heads,
//   key_dim 16)(x, x) -> Add -> LayerNormalization(1e-6) -> Dense(64, gelu) -> Dense(32) -> Add }
//   -> LayerNormalization(1e-6) "encoder_norm" -> Lambda "ExtractToken" (v[:, 0]) -> Dense(10) "head"
//
// Usage: node make_keras_vit.js <out-dir>
'use strict';

const fs = require('fs');
const tf = require('@tensorflow/tfjs');
const {rng, normal, randomiseWeights, saveLayersModel, writeReference} = require('./fixture_common');

const IMAGE = 32, CHANNELS = 3, PATCH = 8, HIDDEN = 32, HEADS = 2, KEY_DIM = 16, MLP = 64, BLOCKS = 2, CLASSES = 10;
const TOKENS = (IMAGE / PATCH) * (IMAGE / PATCH) + 1;
const BATCH = 2;

// ------------------------------------------------------------------------------------ custom Keras layers

/** vit-keras ClassToken: prepends a learned [1, 1, D] token ("cls") to [B, N, D]. */
class ClassToken extends tf.layers.Layer {
  static className = 'ClassToken';

  build(inputShape) {
    this.cls = this.addWeight('cls', [1, 1, inputShape[2]], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  computeOutputShape(inputShape) {
    return [inputShape[0], inputShape[1] + 1, inputShape[2]];
  }

  call(inputs) {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const token = tf.tile(this.cls.read(), [x.shape[0], 1, 1]);
      return tf.concat([token, x], 1);
    });
  }
}
tf.serialization.registerClass(ClassToken);

/** vit-keras AddPositionEmbs: adds a learned [1, T, D] table ("pos_embedding"). */
class AddPositionEmbs extends tf.layers.Layer {
  static className = 'AddPositionEmbs';

  build(inputShape) {
    this.posEmbedding = this.addWeight('pos_embedding', [1, inputShape[1], inputShape[2]], 'float32',
      tf.initializers.randomNormal({stddev: 0.06}));
    this.built = true;
  }

  computeOutputShape(inputShape) {
    return inputShape;
  }

  call(inputs) {
    return tf.tidy(() => tf.add(Array.isArray(inputs) ? inputs[0] : inputs, this.posEmbedding.read()));
  }
}
tf.serialization.registerClass(AddPositionEmbs);

/**
 * keras.layers.MultiHeadAttention with Keras's config fields and weight names/shapes: query|key|value/kernel
 * [D, H, dk], query|key|value/bias [H, dk], attention_output/kernel [H, dv, D], attention_output/bias [D].
 * Called as mha.apply([query, value]) (key = value). tfjs-layers 4.22 has an internal MultiHeadAttention, but it
 * is an ES module outside the CommonJS bundle and does not track its sub-layers' weights, so it cannot be saved.
 */
class MultiHeadAttention extends tf.layers.Layer {
  static className = 'MultiHeadAttention';

  constructor(args) {
    super(args);
    this.numHeads = args.numHeads;
    this.keyDim = args.keyDim;
    this.valueDim = args.valueDim == null ? args.keyDim : args.valueDim;
    this.dropout = args.dropout == null ? 0 : args.dropout;
    this.useBias = args.useBias == null ? true : args.useBias;
    this.outputShapeArg = args.outputShape == null ? null : args.outputShape;
    this.attentionAxes = args.attentionAxes == null ? null : args.attentionAxes;
  }

  build(inputShape) {
    const [queryShape, valueShape] = inputShape;
    const dim = queryShape[2], valueWidth = valueShape[2];
    const outWidth = this.outputShapeArg == null ? dim : this.outputShapeArg;
    this.queryShape = queryShape;
    this.valueShape = valueShape;
    this.keyShape = valueShape;
    const init = tf.initializers.glorotUniform({});
    this.queryKernel = this.addWeight('query/kernel', [dim, this.numHeads, this.keyDim], 'float32', init);
    this.queryBias = this.addWeight('query/bias', [this.numHeads, this.keyDim], 'float32', tf.initializers.zeros());
    this.keyKernel = this.addWeight('key/kernel', [valueWidth, this.numHeads, this.keyDim], 'float32', init);
    this.keyBias = this.addWeight('key/bias', [this.numHeads, this.keyDim], 'float32', tf.initializers.zeros());
    this.valueKernel = this.addWeight('value/kernel', [valueWidth, this.numHeads, this.valueDim], 'float32', init);
    this.valueBias = this.addWeight('value/bias', [this.numHeads, this.valueDim], 'float32', tf.initializers.zeros());
    this.outputKernel = this.addWeight('attention_output/kernel', [this.numHeads, this.valueDim, outWidth], 'float32',
      init);
    this.outputBias = this.addWeight('attention_output/bias', [outWidth], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  computeOutputShape(inputShape) {
    const q = inputShape[0];
    return [q[0], q[1], this.outputShapeArg == null ? q[2] : this.outputShapeArg];
  }

  /** [B, T, W] x kernel [W, H, d] + bias [H, d] -> [B, H, T, d] */
  project(x, kernel, bias, depth) {
    const [b, t, w] = x.shape;
    const y = tf.add(tf.matMul(tf.reshape(x, [b * t, w]), tf.reshape(kernel.read(), [w, this.numHeads * depth])),
      tf.reshape(bias.read(), [this.numHeads * depth]));
    return tf.transpose(tf.reshape(y, [b, t, this.numHeads, depth]), [0, 2, 1, 3]);
  }

  call(inputs) {
    return tf.tidy(() => {
      const [query, value] = inputs;
      const [b, t] = query.shape;
      const q = tf.mul(this.project(query, this.queryKernel, this.queryBias, this.keyDim), 1.0 / Math.sqrt(this.keyDim));
      const k = this.project(value, this.keyKernel, this.keyBias, this.keyDim);
      const v = this.project(value, this.valueKernel, this.valueBias, this.valueDim);
      const probabilities = tf.softmax(tf.matMul(q, k, false, true), -1);
      const context = tf.reshape(tf.transpose(tf.matMul(probabilities, v), [0, 2, 1, 3]),
        [b * t, this.numHeads * this.valueDim]);
      const outWidth = this.outputBias.shape[0];
      const out = tf.add(tf.matMul(context, tf.reshape(this.outputKernel.read(), [this.numHeads * this.valueDim, outWidth])),
        this.outputBias.read());
      return tf.reshape(out, [b, t, outWidth]);
    });
  }

  getConfig() {
    // Keras 2.9 MultiHeadAttention.get_config() fields (tfjs writes them in snake_case).
    return Object.assign({
      numHeads: this.numHeads,
      keyDim: this.keyDim,
      valueDim: this.valueDim,
      dropout: this.dropout,
      useBias: this.useBias,
      outputShape: this.outputShapeArg,
      attentionAxes: this.attentionAxes,
      kernelInitializer: {className: 'GlorotUniform', config: {seed: null}},
      biasInitializer: {className: 'Zeros', config: {}},
      kernelRegularizer: null,
      biasRegularizer: null,
      activityRegularizer: null,
      kernelConstraint: null,
      biasConstraint: null,
      queryShape: this.queryShape,
      keyShape: this.keyShape,
      valueShape: this.valueShape,
    }, super.getConfig());
  }
}
tf.serialization.registerClass(MultiHeadAttention);

/**
 * vit-keras's `Lambda(lambda v: v[:, 0], name="ExtractToken")`: [B, T, D] -> [B, D]. tfjs has no Lambda layer, so
 * this class serialises as class "Lambda" with Keras's Lambda config fields; the Python function itself cannot be
 * produced here and is written as a placeholder string (DL4J ignores it: a Lambda is resolved by its layer name).
 */
class ExtractTokenLambda extends tf.layers.Layer {
  static className = 'Lambda';

  computeOutputShape(inputShape) {
    return [inputShape[0], inputShape[2]];
  }

  call(inputs) {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return tf.reshape(tf.slice(x, [0, 0, 0], [x.shape[0], 1, x.shape[2]]), [x.shape[0], x.shape[2]]);
    });
  }

  getConfig() {
    return Object.assign({
      function: ['lambda v: v[:, 0]', null, null],
      functionType: 'lambda',
      module: 'vit_keras.vit',
      outputShape: null,
      outputShapeType: 'raw',
      outputShapeModule: null,
      arguments: {},
    }, super.getConfig());
  }
}
tf.serialization.registerClass(ExtractTokenLambda);

// ------------------------------------------------------------------------------------- deterministic data

/** Mean and standard deviation of each weight, chosen so that activations and logits stay O(1). */
function distribution(weightName, shape) {
  const leaf = weightName.split('/').pop();
  if (leaf === 'gamma') return [1.0, 0.1];
  if (leaf === 'beta' || leaf === 'bias') return [0.0, 0.1];
  if (leaf === 'cls' || leaf === 'pos_embedding') return [0.0, 0.5];
  // kernels: N(0, 1/sqrt(fan_in)); fan_in is everything but the output axis (and, for MHA kernels, the heads axis)
  let fanIn;
  if (weightName.includes('attention_output/')) fanIn = shape[0] * shape[1];
  else if (shape.length === 3) fanIn = shape[0];
  else fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  return [0.0, 1.0 / Math.sqrt(fanIn)];
}

// ------------------------------------------------------------------------------------------------- model

function buildModel() {
  const input = tf.input({shape: [IMAGE, IMAGE, CHANNELS], name: 'input_1'});
  let y = tf.layers.conv2d({filters: HIDDEN, kernelSize: PATCH, strides: PATCH, padding: 'valid', name: 'embedding'})
    .apply(input);
  y = tf.layers.reshape({targetShape: [TOKENS - 1, HIDDEN], name: 'reshape'}).apply(y);
  y = new ClassToken({name: 'class_token'}).apply(y);
  y = new AddPositionEmbs({name: 'Transformer/posembed_input'}).apply(y);
  for (let n = 0; n < BLOCKS; n++) {
    const p = `encoderblock_${n}`;
    const normed = tf.layers.layerNormalization({epsilon: 1e-6, name: `${p}_norm1`}).apply(y);
    const attended = new MultiHeadAttention({numHeads: HEADS, keyDim: KEY_DIM, dropout: 0, name: `${p}_attention`})
      .apply([normed, normed]);
    y = tf.layers.add({name: `${p}_add1`}).apply([y, attended]);
    const normed2 = tf.layers.layerNormalization({epsilon: 1e-6, name: `${p}_norm2`}).apply(y);
    const hidden = tf.layers.dense({units: MLP, activation: 'gelu', name: `${p}_mlp_dense1`}).apply(normed2);
    const mlp = tf.layers.dense({units: HIDDEN, name: `${p}_mlp_dense2`}).apply(hidden);
    y = tf.layers.add({name: `${p}_add2`}).apply([y, mlp]);
  }
  const encoded = tf.layers.layerNormalization({epsilon: 1e-6, name: 'encoder_norm'}).apply(y);
  const token = new ExtractTokenLambda({name: 'ExtractToken'}).apply(encoded);
  const logits = tf.layers.dense({units: CLASSES, name: 'head'}).apply(token);
  return {
    model: tf.model({inputs: input, outputs: logits, name: 'vit_tiny'}),
    probe: tf.model({inputs: input, outputs: [logits, token, encoded]}),
  };
}

async function main() {
  const out = process.argv[2];
  if (!out) {
    throw new Error('usage: node make_keras_vit.js <out-dir>');
  }
  fs.mkdirSync(out, {recursive: true});
  await tf.setBackend('cpu');
  const {model, probe} = buildModel();
  randomiseWeights(model, 20241129, distribution);
  await saveLayersModel(model, out);

  const input = tf.tensor(normal(rng(7), BATCH * IMAGE * IMAGE * CHANNELS, 0, 1), [BATCH, IMAGE, IMAGE, CHANNELS]);
  const [logits, token, encoded] = probe.predict(input);
  writeReference({input, logits, class_token_features: token, encoder_norm_output: encoded}, out);
  const l = logits.dataSync();
  console.log(`tfjs ${tf.version.tfjs}: ${model.countParams()} parameters, logits[0] = ` +
    Array.from(l.slice(0, CLASSES)).map((v) => v.toFixed(4)).join(' '));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
