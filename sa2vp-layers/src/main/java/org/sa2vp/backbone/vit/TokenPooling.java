package org.sa2vp.backbone.vit;

/** How a ViT turns its final token map into one feature vector. */
public enum TokenPooling {
    /** The class token (Google, VPT, torchvision, HF): features = LN(x[:, 0]). */
    CLASS_TOKEN,
    /** timm's {@code global_pool='avg'}: features = LN(mean of the patch tokens). */
    MEAN
}
