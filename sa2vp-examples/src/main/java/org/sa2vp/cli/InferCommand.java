package org.sa2vp.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.sa2vp.backbone.BackboneGraphs;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.backbone.swin.SwinCheckpoint;
import org.sa2vp.backbone.swin.SwinTransformerConfig;
import org.sa2vp.backbone.vit.PositionEmbeddingResize;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.backbone.weights.NpzReader;
import org.sa2vp.backbone.weights.NpzWriter;
import org.sa2vp.model.AdapterFile;
import org.sa2vp.model.Sa2vpConfig;
import org.sa2vp.model.Sa2vpModel;
import org.sa2vp.model.Sa2vpSwinConfig;
import org.sa2vp.model.SwinAuthorsNames;
import org.sa2vp.zoo.ZooBackbones;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code sa2vp infer}: runs a plain ViT backbone, or SA2VP on a ViT or Swin, from checkpoint files on a tensor. */
@Command(name = "infer", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs a backbone checkpoint (ViT or Swin) on a float32 NCHW tensor (.npy) in inference mode and "
                + "writes 'features' (final-norm class token, [B, D]) and, when the checkpoint has a classifier head, "
                + "'logits' ([B, classes]) to an .npz.",
                "With --prompts PARAMS (SA2VP trainable tensors under the authors' state-dict names, .safetensors, "
                        + ".npz or .pth, e.g. an adapter file written by 'sa2vp train' or the authors' PyTorch "
                        + "checkpoint), runs SA2VP instead and writes 'base_logits' and 'prompt_logits' ([B, "
                        + "classes], the class count from class_head). Rank, adapter width and the number of deep "
                        + "maps come from the tensors' shapes (or the adapter file's stored configuration); the rest "
                        + "from the SA2VP options (authors' defaults).",
                "A Swin Transformer checkpoint runs as a plain backbone in the same way ('features': the pooled final "
                        + "norm), and with --prompts as SA2VP-Swin: rank, adapter width and "
                        + "classes from the tensors (patch_embed.deep_ppt, layers.S.cross_attn.0.ffn.fc1, "
                        + "class_head), the rest the authors' Swin defaults with --rank, --adapter-size, --gamma, "
                        + "--lambda and --window.",
                "The format is read from the file: Google ViT .npz, timm / Hugging Face / torchvision state dicts "
                        + "(.safetensors, .npz or torch.save .pth), ONNX (weights from the initializers) or Keras "
                        + ".h5. The architecture (width, depth, patch, grid, classes) comes from the weights; the "
                        + "number of heads from the file where stored (Google .npz, ONNX, Keras), otherwise from "
                        + "--heads (standard widths 192/384/768/1024/1280 assume 64-wide heads)."},
        footer = {"", "Example:", "  sa2vp infer --backbone imagenet21k_ViT-B_16.npz --input images.npy "
                + "--output out.npz"})
public final class InferCommand implements Callable<Integer> {

    @Option(names = "--backbone", required = true, paramLabel = "FILE|zoo:NAME", description = "checkpoint file, or "
            + "zoo:NAME for a bundled backbone")
    String backbone;

    @Option(names = "--input", required = true, paramLabel = "X.npy", description = "float32 images [B, C, H, W]")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "OUT.npz", description = "where to write the results")
    Path output;

    @Option(names = "--heads", paramLabel = "N", description = "attention heads; checked against the file when it "
            + "stores them")
    Integer heads;

    @Option(names = "--image-size", paramLabel = "S", description = "model image size (default: the input's); the "
            + "position embedding is resized bilinearly when it differs from the checkpoint's")
    Integer imageSize;

    @Option(names = "--resize", paramLabel = "MODE", description = "position-embedding resize: ${COMPLETION-CANDIDATES}"
            + " (default: ${DEFAULT-VALUE}, as Google's and the SA2VP loaders)", defaultValue = "ALIGN_CORNERS")
    PositionEmbeddingResize.Alignment resize;

    @Option(names = "--layer-norm-eps", paramLabel = "E", description = "LayerNorm epsilon (default 1e-6, Google/VPT;"
            + " Hugging Face ViTs use 1e-12)")
    Double layerNormEps;

    @Option(names = "--non-strict", description = "ignore checkpoint keys that are not part of a plain ViT (they are"
            + " listed as an error otherwise)")
    boolean nonStrict;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "32", description = "images per forward pass "
            + "(default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--prompts", paramLabel = "PARAMS", description = "SA2VP trainable tensors (authors' names): run "
            + "SA2VP and write base_logits and prompt_logits")
    Path prompts;

    @picocli.CommandLine.Mixin
    Sa2vpOptions sa2vp;

    @Override
    public Integer call() {
        INDArray images = NpzReader.readNpy(input);
        if (images.rank() != 4) {
            throw new IllegalArgumentException(input + ": shape " + Arrays.toString(images.shape())
                    + ", expected [batch, channels, height, width] (NCHW float32)");
        }
        if (BackboneOptions.isSwinFile(backbone)) {
            return runSwin(images);
        }
        VitCheckpoint.Options options = VitCheckpoint.Options.defaults().withNumHeads(heads)
                .withImageSize(imageSize != null ? imageSize : (int) images.size(2)).withLayerNormEps(layerNormEps)
                .withAlignment(resize).withStrict(!nonStrict);
        // A bundled backbone is read as its file would be, with the options CheckpointOptions carries.
        VitCheckpoint checkpoint = backbone.startsWith(ZooBackbones.PREFIX)
                ? VitCheckpoint.of(ZooBackbones.read(backbone, CheckpointOptions.defaults().withNumHeads(heads)
                        .withImageSize(options.imageSize()).withStrict(!nonStrict)))
                : VitCheckpoint.read(Path.of(backbone), options);
        VisionTransformerConfig c = checkpoint.config();
        if (images.size(1) != c.getInChannels() || images.size(2) != c.getImageHeight()
                || images.size(3) != c.getImageWidth()) {
            throw new IllegalArgumentException(input + ": shape " + Arrays.toString(images.shape()) + ", expected [B, "
                    + c.getInChannels() + ", " + c.getImageHeight() + ", " + c.getImageWidth() + "] for " + backbone);
        }
        if (prompts != null) {
            return runSa2vp(checkpoint, images);
        }
        System.err.printf("%s: ViT width %d, depth %d, heads %d, patch %d, %dx%d images, %d classes%n", backbone,
                c.getHiddenSize(), c.getDepth(), c.getNumHeads(), c.getPatchSize(), c.getImageHeight(),
                c.getImageWidth(), c.getNumClasses());
        return writeBackboneOutputs(checkpoint.toGraph(), c.getNumClasses() > 0, images);
    }

    /**
     * A plain backbone graph of any family (vertices {@link BackboneGraphs#FEATURES}, {@link BackboneGraphs#HEAD}),
     * batch by batch: 'features' and, when it has a head, 'logits' into --output.
     */
    private int writeBackboneOutputs(ComputationGraph graph, boolean hasHead, INDArray images) {
        List<INDArray> features = new ArrayList<>();
        List<INDArray> logits = new ArrayList<>();
        for (long start = 0; start < images.size(0); start += batchSize) {
            INDArray batch = images.get(NDArrayIndex.interval(start, Math.min(start + batchSize, images.size(0))),
                    NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all());
            Map<String, INDArray> activations = graph.feedForward(new INDArray[]{batch}, false);
            features.add(activations.get(BackboneGraphs.FEATURES).dup());
            if (hasHead) {
                logits.add(activations.get(BackboneGraphs.HEAD).dup());
            }
        }
        Map<String, INDArray> out = new LinkedHashMap<>();
        out.put("features", Nd4j.concat(0, features.toArray(new INDArray[0])));
        if (!logits.isEmpty()) {
            out.put("logits", Nd4j.concat(0, logits.toArray(new INDArray[0])));
        }
        NpzWriter.writeNpz(output, out);
        System.err.printf("wrote %s: %s%n", output, out.keySet());
        return 0;
    }

    private int runSa2vp(VitCheckpoint checkpoint, INDArray images) {
        AdapterFile.Contents loaded = AdapterFile.readAny(prompts,
                sa2vp.toConfig(checkpoint.config().withNumClasses(0).withDropout(0), 1));
        Sa2vpConfig config = loaded.config();
        ComputationGraph graph = loaded.graph(checkpoint);
        System.err.printf("%s + %s: SA2VP rank %d, adapter %d, deep layers %s, %d classes%n", backbone, prompts,
                config.getPromptRank(), config.getAdapterSize(), config.getDeepPromptLayers(), config.getNumClasses());
        return writeLogits(graph, images);
    }

    /**
     * A Swin checkpoint: without --prompts the plain backbone's features and logits; with them SA2VP-Swin, configured
     * as the authors' defaults on the backbone with the SA2VP options that SA2VP-Swin has, rank, adapter width and
     * classes from the tensors (or an adapter file's stored configuration).
     */
    private int runSwin(INDArray images) {
        SwinCheckpoint checkpoint = SwinCheckpoint.read(Path.of(backbone), CheckpointOptions.defaults()
                .withNumHeads(heads).withImageSize(imageSize != null ? imageSize : (int) images.size(2))
                .withStrict(!nonStrict));
        SwinTransformerConfig c = checkpoint.config();
        if (images.size(1) != c.getInChannels() || images.size(2) != c.getImageHeight()
                || images.size(3) != c.getImageWidth()) {
            throw new IllegalArgumentException(input + ": shape " + Arrays.toString(images.shape()) + ", expected [B, "
                    + c.getInChannels() + ", " + c.getImageHeight() + ", " + c.getImageWidth() + "] for " + backbone);
        }
        if (prompts == null) {
            System.err.printf("%s: %s%n", backbone, c.describe());
            return writeBackboneOutputs(checkpoint.toGraph(), c.getNumClasses() > 0, images);
        }
        Sa2vpSwinConfig template = (Sa2vpSwinConfig) sa2vp.applyTo(Sa2vpSwinConfig.of(c.headless(), 1));
        SwinAuthorsNames.Trained trained = SwinAuthorsNames.readAny(prompts, template);
        Sa2vpSwinConfig config = trained.config();
        System.err.printf("%s + %s: SA2VP-Swin rank %d, adapter %d, interaction stage %d (image->prompt at blocks "
                        + "%s), %d classes%n", backbone, prompts, config.getPromptRank(), config.getAdapterSize(),
                config.getInteractionStage(), config.getImageToPromptBlocks(), config.getNumClasses());
        return writeLogits(trained.graph(checkpoint), images);
    }

    /** Both streams' logits of an SA2VP graph (any backbone family), batch by batch, into --output. */
    private int writeLogits(ComputationGraph graph, INDArray images) {
        List<INDArray> base = new ArrayList<>();
        List<INDArray> prompt = new ArrayList<>();
        for (long start = 0; start < images.size(0); start += batchSize) {
            INDArray batch = images.get(NDArrayIndex.interval(start, Math.min(start + batchSize, images.size(0))),
                    NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all());
            INDArray[] logits = Sa2vpModel.logits(graph, batch);
            base.add(logits[0].dup());
            prompt.add(logits[1].dup());
        }
        Map<String, INDArray> out = new LinkedHashMap<>();
        out.put("base_logits", Nd4j.concat(0, base.toArray(new INDArray[0])));
        out.put("prompt_logits", Nd4j.concat(0, prompt.toArray(new INDArray[0])));
        NpzWriter.writeNpz(output, out);
        System.err.printf("wrote %s: %s%n", output, out.keySet());
        return 0;
    }
}
