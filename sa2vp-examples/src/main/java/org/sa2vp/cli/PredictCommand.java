package org.sa2vp.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.model.AdapterFile;
import org.sa2vp.model.Sa2vpConfig;
import org.sa2vp.model.Sa2vpModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import javax.imageio.ImageIO;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code sa2vp predict}: top-k classes of image files with a trained SA2VP model. */
@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Classifies image files (PNG, JPEG, BMP, GIF) with SA2VP: each image is resized to the model's "
                + "size (bilinear), scaled to [0, 1] and normalised with mean 0.5 and std 0.5 per channel, as the "
                + "authors' VTAB transform; grey images are repeated over 3 channels. Prints the top-k classes of the "
                + "image logits with their probabilities."},
        footer = {"", "Example:", "  sa2vp predict --backbone vit.npz --prompts run/adapter.safetensors "
                + "--class-names classes.txt cat.png dog.jpg"})
public final class PredictCommand implements Callable<Integer> {

    @Mixin
    BackboneOptions backbone;

    @Mixin
    Sa2vpOptions sa2vp;

    @Option(names = "--prompts", required = true, paramLabel = "PARAMS",
            description = "trained SA2VP tensors (adapter file from 'sa2vp train', or authors' names)")
    Path prompts;

    @Option(names = "--class-names", paramLabel = "FILE", description = "one class name per line, in label order")
    Path classNames;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "5", description = "classes to print (default ${DEFAULT-VALUE})")
    int topK;

    @Parameters(paramLabel = "IMAGE", arity = "1..*", description = "image files")
    List<Path> images;

    @Override
    public Integer call() throws IOException {
        VitCheckpoint checkpoint = backbone.checkpoint();
        if (checkpoint == null) {
            throw new IllegalArgumentException("predict needs the trained backbone: --backbone FILE");
        }
        VisionTransformerConfig vit = backbone.config(checkpoint);
        AdapterFile.Contents loaded = AdapterFile.readAny(prompts, sa2vp.toConfig(vit, 1));
        Sa2vpConfig config = loaded.config();
        ComputationGraph graph = loaded.graph(checkpoint);
        List<String> names = classNames == null ? List.of() : Files.readAllLines(classNames).stream()
                .filter(l -> !l.isBlank()).toList();
        if (!names.isEmpty() && names.size() != config.getNumClasses()) {
            throw new IllegalArgumentException(classNames + ": " + names.size() + " names, but the model has "
                    + config.getNumClasses() + " classes");
        }
        for (Path image : images) {
            INDArray x = load(image, vit).reshape(1, vit.getInChannels(), vit.getImageHeight(), vit.getImageWidth());
            INDArray probabilities = Transforms.softmax(Sa2vpModel.logits(graph, x)[0], true).getRow(0);
            System.out.println(image);
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < probabilities.length(); i++) {
                order.add(i);
            }
            order.sort((a, b) -> Double.compare(probabilities.getDouble(b), probabilities.getDouble(a)));
            for (int k = 0; k < Math.min(topK, order.size()); k++) {
                int c = order.get(k);
                System.out.printf("  %6.2f%%  %s%n", 100 * probabilities.getDouble(c),
                        names.isEmpty() ? "class " + c : names.get(c));
            }
        }
        return 0;
    }

    /** An image as {@code [C, H, W]} in [−1, 1] at the model's size. */
    static INDArray load(Path file, VisionTransformerConfig vit) throws IOException {
        BufferedImage source = ImageIO.read(file.toFile());
        if (source == null) {
            throw new IllegalArgumentException(file + ": not a readable image (PNG, JPEG, BMP or GIF expected)");
        }
        int h = vit.getImageHeight(), w = vit.getImageWidth();
        BufferedImage resized = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = resized.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(source, 0, 0, w, h, null);
        g.dispose();
        int channels = vit.getInChannels();
        float[] data = new float[channels * h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = resized.getRGB(x, y);
                int[] values = {(rgb >> 16) & 0xFF, (rgb >> 8) & 0xFF, rgb & 0xFF};
                for (int c = 0; c < channels; c++) {
                    int v = channels == 1 ? (values[0] + values[1] + values[2]) / 3 : values[c];
                    data[(c * h + y) * w + x] = (v / 255f - 0.5f) / 0.5f;
                }
            }
        }
        return Nd4j.create(data, new long[]{channels, h, w}, 'c').castTo(DataType.FLOAT);
    }
}
