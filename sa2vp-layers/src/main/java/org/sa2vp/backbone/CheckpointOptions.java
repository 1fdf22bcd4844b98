package org.sa2vp.backbone;

/**
 * What a checkpoint file cannot tell, for any family: null fields mean "from the file".
 *
 * @param numHeads  attention heads (of the first stage), for files that do not store them
 * @param imageSize the model's square image size; position embeddings or bias tables are resized to it
 * @param strict    whether keys outside the family's architecture are an error (false: ignored)
 */
public record CheckpointOptions(Integer numHeads, Integer imageSize, boolean strict) {

    /** Everything from the file, unexpected keys an error. */
    public static CheckpointOptions defaults() {
        return new CheckpointOptions(null, null, true);
    }

    /**
     * The options that read a checkpoint as {@code trainedOn} was built: its first stage's heads and its image size
     * (how what was trained on a backbone finds that backbone in a file again).
     */
    public static CheckpointOptions of(Backbone trainedOn) {
        return defaults().withNumHeads(trainedOn.stages().get(0).numHeads())
                .withImageSize(trainedOn.getImageHeight());
    }

    /** These options with the given number of attention heads (null: from the file). */
    public CheckpointOptions withNumHeads(Integer heads) {
        return new CheckpointOptions(heads, imageSize, strict);
    }

    /** These options with the given square image size (null: the checkpoint's). */
    public CheckpointOptions withImageSize(Integer size) {
        return new CheckpointOptions(numHeads, size, strict);
    }

    /** These options with unexpected keys an error (true) or ignored (false). */
    public CheckpointOptions withStrict(boolean s) {
        return new CheckpointOptions(numHeads, imageSize, s);
    }
}
