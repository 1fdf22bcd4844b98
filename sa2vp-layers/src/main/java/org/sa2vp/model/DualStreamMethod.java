package org.sa2vp.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.method.TuningMethod;

import java.util.List;

/**
 * What SA2VP's two streams give the trainer on any backbone: the image stream's and the prompt stream's logits from
 * one shared head ({@link Sa2vpModel#IMAGE_LOGITS}, {@link Sa2vpModel#PROMPT_LOGITS}; the first is the prediction),
 * each with the labels, and the loss {@code λ·CE(image) + (1 − λ)·CE(prompt)}. SA2VP on the ViT
 * ({@link Sa2vpConfig}) and on the Swin ({@link Sa2vpSwinConfig}) share it.
 */
public interface DualStreamMethod extends TuningMethod {

    /** λ, the image stream's weight in the loss (the authors' 0.8; 1 is the ablation without prompt supervision). */
    double getLossWeight();

    @Override
    default INDArray[] labels(INDArray oneHot) {
        return Sa2vpModel.labels(oneHot);
    }

    @Override
    default List<String> logitVertices() {
        return List.of(Sa2vpModel.IMAGE_LOGITS, Sa2vpModel.PROMPT_LOGITS);
    }

    @Override
    default double[] lossWeights() {
        return new double[]{getLossWeight(), 1 - getLossWeight()};
    }
}
