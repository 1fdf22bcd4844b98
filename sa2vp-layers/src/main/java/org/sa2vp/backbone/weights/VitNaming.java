package org.sa2vp.backbone.weights;

import java.util.Collection;
import java.util.OptionalInt;

import static org.sa2vp.backbone.weights.TensorLayout.AS_IS;
import static org.sa2vp.backbone.weights.TensorLayout.BATCH_OF_ONE;
import static org.sa2vp.backbone.weights.TensorLayout.FLATTEN;
import static org.sa2vp.backbone.weights.TensorLayout.HEADS_IN;
import static org.sa2vp.backbone.weights.TensorLayout.HEADS_OUT;
import static org.sa2vp.backbone.weights.TensorLayout.HWIO_TO_OIHW;
import static org.sa2vp.backbone.weights.TensorLayout.TRANSPOSE;

/**
 * The ViT checkpoint naming schemes the loaders understand, one key table each, all converted to timm's names
 * and PyTorch layouts (the library's canonical state dict):
 * <pre>
 *   cls_token [1,1,D]  pos_embed [1,T,D]  patch_embed.proj.{weight [D,C,P,P], bias}
 *   blocks.{i}.norm1.*  blocks.{i}.attn.qkv.{weight [3D,D], bias [3D]}  blocks.{i}.attn.proj.*
 *   blocks.{i}.norm2.*  blocks.{i}.mlp.fc1.{weight [M,D], bias}  blocks.{i}.mlp.fc2.*  norm.*  head.{weight [C,D], bias}
 * </pre>
 */
public enum VitNaming {

    /** timm's {@code vision_transformer.py} state dict (safetensors from the Hub, or a torch-exported npz). */
    TIMM(new KeyTable("timm ViT state dict", "blocks.{i}.norm1.weight")
            .optional("cls_token", AS_IS, "cls_token")
            .map("pos_embed", AS_IS, "pos_embed")
            .map("patch_embed.proj.weight", AS_IS, "patch_embed.proj.weight")
            .map("patch_embed.proj.bias", AS_IS, "patch_embed.proj.bias")
            .map("blocks.{i}.norm1.weight", AS_IS, "blocks.{i}.norm1.weight")
            .map("blocks.{i}.norm1.bias", AS_IS, "blocks.{i}.norm1.bias")
            .map("blocks.{i}.attn.qkv.weight", AS_IS, "blocks.{i}.attn.qkv.weight")
            .optional("blocks.{i}.attn.qkv.bias", AS_IS, "blocks.{i}.attn.qkv.bias")
            .map("blocks.{i}.attn.proj.weight", AS_IS, "blocks.{i}.attn.proj.weight")
            .map("blocks.{i}.attn.proj.bias", AS_IS, "blocks.{i}.attn.proj.bias")
            .map("blocks.{i}.norm2.weight", AS_IS, "blocks.{i}.norm2.weight")
            .map("blocks.{i}.norm2.bias", AS_IS, "blocks.{i}.norm2.bias")
            .map("blocks.{i}.mlp.fc1.weight", AS_IS, "blocks.{i}.mlp.fc1.weight")
            .map("blocks.{i}.mlp.fc1.bias", AS_IS, "blocks.{i}.mlp.fc1.bias")
            .map("blocks.{i}.mlp.fc2.weight", AS_IS, "blocks.{i}.mlp.fc2.weight")
            .map("blocks.{i}.mlp.fc2.bias", AS_IS, "blocks.{i}.mlp.fc2.bias")
            .map("norm.weight", AS_IS, "norm.weight|fc_norm.weight")
            .map("norm.bias", AS_IS, "norm.bias|fc_norm.bias")
            .optional("head.weight", AS_IS, "head.weight")
            .optional("head.bias", AS_IS, "head.bias")),

    /**
     * Google's original {@code vision_transformer} (Flax) {@code .npz}, e.g. {@code imagenet21k_ViT-B_16.npz},
     * the checkpoint VPT and SA2VP use. A {@code pre_logits} representation layer is not part of the backbone.
     */
    GOOGLE(new KeyTable("Google ViT .npz", "Transformer/encoderblock_{i}/LayerNorm_0/scale")
            .optional("cls_token", BATCH_OF_ONE, "cls")
            .map("pos_embed", BATCH_OF_ONE, "Transformer/posembed_input/pos_embedding")
            .map("patch_embed.proj.weight", HWIO_TO_OIHW, "embedding/kernel")
            .map("patch_embed.proj.bias", AS_IS, "embedding/bias")
            .map("blocks.{i}.norm1.weight", AS_IS, "Transformer/encoderblock_{i}/LayerNorm_0/scale")
            .map("blocks.{i}.norm1.bias", AS_IS, "Transformer/encoderblock_{i}/LayerNorm_0/bias")
            .map("blocks.{i}.attn.qkv.weight", HEADS_IN,
                    "Transformer/encoderblock_{i}/MultiHeadDotProductAttention_1/query/kernel",
                    "Transformer/encoderblock_{i}/MultiHeadDotProductAttention_1/key/kernel",
                    "Transformer/encoderblock_{i}/MultiHeadDotProductAttention_1/value/kernel")
            .optional("blocks.{i}.attn.qkv.bias", FLATTEN,
                    "Transformer/encoderblock_{i}/MultiHeadDotProductAttention_1/query/bias",
                    "Transformer/encoderblock_{i}/MultiHeadDotProductAttention_1/key/bias",
                    "Transformer/encoderblock_{i}/MultiHeadDotProductAttention_1/value/bias")
            .map("blocks.{i}.attn.proj.weight", HEADS_OUT,
                    "Transformer/encoderblock_{i}/MultiHeadDotProductAttention_1/out/kernel")
            .map("blocks.{i}.attn.proj.bias", AS_IS, "Transformer/encoderblock_{i}/MultiHeadDotProductAttention_1/out/bias")
            .map("blocks.{i}.norm2.weight", AS_IS, "Transformer/encoderblock_{i}/LayerNorm_2/scale")
            .map("blocks.{i}.norm2.bias", AS_IS, "Transformer/encoderblock_{i}/LayerNorm_2/bias")
            .map("blocks.{i}.mlp.fc1.weight", TRANSPOSE, "Transformer/encoderblock_{i}/MlpBlock_3/Dense_0/kernel")
            .map("blocks.{i}.mlp.fc1.bias", AS_IS, "Transformer/encoderblock_{i}/MlpBlock_3/Dense_0/bias")
            .map("blocks.{i}.mlp.fc2.weight", TRANSPOSE, "Transformer/encoderblock_{i}/MlpBlock_3/Dense_1/kernel")
            .map("blocks.{i}.mlp.fc2.bias", AS_IS, "Transformer/encoderblock_{i}/MlpBlock_3/Dense_1/bias")
            .map("norm.weight", AS_IS, "Transformer/encoder_norm/scale")
            .map("norm.bias", AS_IS, "Transformer/encoder_norm/bias")
            .optional("head.weight", TRANSPOSE, "head/kernel")
            .optional("head.bias", AS_IS, "head/bias")
            .unused("pre_logits/.*")),

    /** Hugging Face {@code ViTForImageClassification} ({@code vit.} prefix, {@code classifier}) or {@code ViTModel}. */
    HUGGING_FACE(new KeyTable("Hugging Face ViT state dict", "{p}encoder.layer.{i}.layernorm_before.weight")
            .prefixes("vit.", "")
            .optional("cls_token", AS_IS, "{p}embeddings.cls_token")
            .map("pos_embed", AS_IS, "{p}embeddings.position_embeddings")
            .map("patch_embed.proj.weight", AS_IS, "{p}embeddings.patch_embeddings.projection.weight")
            .map("patch_embed.proj.bias", AS_IS, "{p}embeddings.patch_embeddings.projection.bias")
            .map("blocks.{i}.norm1.weight", AS_IS, "{p}encoder.layer.{i}.layernorm_before.weight")
            .map("blocks.{i}.norm1.bias", AS_IS, "{p}encoder.layer.{i}.layernorm_before.bias")
            .map("blocks.{i}.attn.qkv.weight", AS_IS, "{p}encoder.layer.{i}.attention.attention.query.weight",
                    "{p}encoder.layer.{i}.attention.attention.key.weight",
                    "{p}encoder.layer.{i}.attention.attention.value.weight")
            .optional("blocks.{i}.attn.qkv.bias", AS_IS, "{p}encoder.layer.{i}.attention.attention.query.bias",
                    "{p}encoder.layer.{i}.attention.attention.key.bias",
                    "{p}encoder.layer.{i}.attention.attention.value.bias")
            .map("blocks.{i}.attn.proj.weight", AS_IS, "{p}encoder.layer.{i}.attention.output.dense.weight")
            .map("blocks.{i}.attn.proj.bias", AS_IS, "{p}encoder.layer.{i}.attention.output.dense.bias")
            .map("blocks.{i}.norm2.weight", AS_IS, "{p}encoder.layer.{i}.layernorm_after.weight")
            .map("blocks.{i}.norm2.bias", AS_IS, "{p}encoder.layer.{i}.layernorm_after.bias")
            .map("blocks.{i}.mlp.fc1.weight", AS_IS, "{p}encoder.layer.{i}.intermediate.dense.weight")
            .map("blocks.{i}.mlp.fc1.bias", AS_IS, "{p}encoder.layer.{i}.intermediate.dense.bias")
            .map("blocks.{i}.mlp.fc2.weight", AS_IS, "{p}encoder.layer.{i}.output.dense.weight")
            .map("blocks.{i}.mlp.fc2.bias", AS_IS, "{p}encoder.layer.{i}.output.dense.bias")
            .map("norm.weight", AS_IS, "{p}layernorm.weight")
            .map("norm.bias", AS_IS, "{p}layernorm.bias")
            .optional("head.weight", AS_IS, "classifier.weight")
            .optional("head.bias", AS_IS, "classifier.bias")
            .unused("(vit\\.)?pooler\\..*")),

    /** torchvision's {@code VisionTransformer} ({@code vit_b_16()} …) state dict. */
    TORCHVISION(new KeyTable("torchvision ViT state dict", "encoder.layers.encoder_layer_{i}.ln_1.weight")
            .optional("cls_token", AS_IS, "class_token")
            .map("pos_embed", AS_IS, "encoder.pos_embedding")
            .map("patch_embed.proj.weight", AS_IS, "conv_proj.weight")
            .map("patch_embed.proj.bias", AS_IS, "conv_proj.bias")
            .map("blocks.{i}.norm1.weight", AS_IS, "encoder.layers.encoder_layer_{i}.ln_1.weight")
            .map("blocks.{i}.norm1.bias", AS_IS, "encoder.layers.encoder_layer_{i}.ln_1.bias")
            .map("blocks.{i}.attn.qkv.weight", AS_IS, "encoder.layers.encoder_layer_{i}.self_attention.in_proj_weight")
            .optional("blocks.{i}.attn.qkv.bias", AS_IS, "encoder.layers.encoder_layer_{i}.self_attention.in_proj_bias")
            .map("blocks.{i}.attn.proj.weight", AS_IS,
                    "encoder.layers.encoder_layer_{i}.self_attention.out_proj.weight")
            .map("blocks.{i}.attn.proj.bias", AS_IS, "encoder.layers.encoder_layer_{i}.self_attention.out_proj.bias")
            .map("blocks.{i}.norm2.weight", AS_IS, "encoder.layers.encoder_layer_{i}.ln_2.weight")
            .map("blocks.{i}.norm2.bias", AS_IS, "encoder.layers.encoder_layer_{i}.ln_2.bias")
            .map("blocks.{i}.mlp.fc1.weight", AS_IS,
                    "encoder.layers.encoder_layer_{i}.mlp.0.weight|encoder.layers.encoder_layer_{i}.mlp.linear_1.weight")
            .map("blocks.{i}.mlp.fc1.bias", AS_IS,
                    "encoder.layers.encoder_layer_{i}.mlp.0.bias|encoder.layers.encoder_layer_{i}.mlp.linear_1.bias")
            .map("blocks.{i}.mlp.fc2.weight", AS_IS,
                    "encoder.layers.encoder_layer_{i}.mlp.3.weight|encoder.layers.encoder_layer_{i}.mlp.linear_2.weight")
            .map("blocks.{i}.mlp.fc2.bias", AS_IS,
                    "encoder.layers.encoder_layer_{i}.mlp.3.bias|encoder.layers.encoder_layer_{i}.mlp.linear_2.bias")
            .map("norm.weight", AS_IS, "encoder.ln.weight")
            .map("norm.bias", AS_IS, "encoder.ln.bias")
            .optional("head.weight", AS_IS, "heads.head.weight")
            .optional("head.bias", AS_IS, "heads.head.bias")
            .unused("heads\\.pre_logits\\..*"));

    private final KeyTable table;

    VitNaming(KeyTable table) {
        this.table = table;
    }

    public KeyTable table() {
        return table;
    }

    /** The naming scheme of {@code dict}, or a one-line error listing a few of its keys. */
    public static VitNaming detect(StateDict dict) {
        return detect(dict.keys(), dict.source());
    }

    /** The naming of the tensor names {@code keys} of {@code source}, or a one-line error listing a few of them. */
    public static VitNaming detect(Collection<String> keys, String source) {
        for (VitNaming naming : values()) {
            if (naming.table.recognises(keys)) {
                return naming;
            }
        }
        throw new CheckpointException(source + ": not a ViT checkpoint in a known naming (timm, Google, "
                + "Hugging Face, torchvision); first keys: " + keys.stream().limit(5).toList());
    }

    /** Attention heads, where the format stores them per head (Google's {@code [D, heads, headDim]} kernels). */
    public OptionalInt numHeads(StateDict dict) {
        if (this == GOOGLE) {
            String key = "Transformer/encoderblock_0/MultiHeadDotProductAttention_1/query/kernel";
            if (dict.contains(key) && dict.get(key).rank() == 3) {
                return OptionalInt.of((int) dict.get(key).size(1));
            }
        }
        return OptionalInt.empty();
    }

    /** timm names and PyTorch layouts; a Google {@code pre_logits} checkpoint loses its head (see {@link #GOOGLE}). */
    public StateDict toTimm(StateDict dict, boolean strict) {
        StateDict timm = table.toTimm(dict, strict);
        if (this == GOOGLE && dict.contains("pre_logits/kernel")) {
            java.util.Map<String, org.nd4j.linalg.api.ndarray.INDArray> tensors = new java.util.LinkedHashMap<>(timm.tensors());
            tensors.remove("head.weight");
            tensors.remove("head.bias");
            return new StateDict(timm.source(), tensors);
        }
        return timm;
    }
}
