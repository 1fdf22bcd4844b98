package org.sa2vp.cli;

import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.layers.AdapterActivation;
import org.sa2vp.layers.AttentionMode;
import org.sa2vp.model.Sa2vpConfig;
import picocli.CommandLine.Option;

import java.util.List;

/** The SA2VP hyper-parameters as command-line options; defaults are the authors' (official code). */
public final class Sa2vpOptions {

    @Option(names = "--rank", paramLabel = "R", defaultValue = "16",
            description = "rank of the prompt maps (authors' inner_dim; default ${DEFAULT-VALUE})")
    int rank;

    @Option(names = "--adapter-size", paramLabel = "T", defaultValue = "16",
            description = "adapter bottleneck width (default ${DEFAULT-VALUE})")
    int adapterSize;

    @Option(names = "--gamma", paramLabel = "G", defaultValue = "0.1",
            description = "weight of the interaction (add_scale; default ${DEFAULT-VALUE})")
    double gamma;

    @Option(names = "--lambda", paramLabel = "L", defaultValue = "0.8",
            description = "loss = L·CE(image) + (1−L)·CE(prompt) (default ${DEFAULT-VALUE}; 1 = no prompt supervision)")
    double lambda;

    @Option(names = "--window", paramLabel = "C", defaultValue = "3",
            description = "odd window size c of the spatially aligned attention (default ${DEFAULT-VALUE})")
    int window;

    @Option(names = "--image-to-prompt-layers", paramLabel = "I,J,..", split = ",", defaultValue = "0,4,8",
            description = "layers where the image updates the prompt; all others: prompt → image (default 0,4,8)")
    List<Integer> imageToPromptLayers;

    @Option(names = "--deep-prompt-layers", paramLabel = "I,J,..", split = ",", defaultValue = "4,8",
            description = "layers that inject a new prompt map (default 4,8; 'none' for the ablation)",
            converter = LayerListConverter.class)
    List<Integer> deepPromptLayers;

    @Option(names = "--activation", paramLabel = "A", defaultValue = "GELU",
            description = "adapter activation: GELU (authors' code) or RELU (paper text)")
    AdapterActivation activation;

    @Option(names = "--no-adapter", description = "ablation: interaction without the adapter")
    boolean noAdapter;

    @Option(names = "--global-attention", description = "ablation: global instead of spatially aligned attention")
    boolean globalAttention;

    @Option(names = "--dropout", paramLabel = "P", defaultValue = "0.1",
            description = "dropout wherever the authors' code has it (default ${DEFAULT-VALUE})")
    double dropout;

    public Sa2vpConfig toConfig(VisionTransformerConfig backbone, int classes) {
        return Sa2vpConfig.builder().backbone(backbone).numClasses(classes).promptRank(rank).adapterSize(adapterSize)
                .gamma(gamma).lossWeight(lambda).windowSize(window).imageToPromptLayers(imageToPromptLayers)
                .deepPromptLayers(deepLayers()).adapterActivation(activation).adapter(!noAdapter)
                .attentionMode(globalAttention ? AttentionMode.GLOBAL : AttentionMode.LOCAL).dropout(dropout).build()
                .validated();
    }

    /** "4,8" or "none". */
    public static final class LayerListConverter implements picocli.CommandLine.ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return value.equalsIgnoreCase("none") ? -1 : Integer.parseInt(value.trim());
        }
    }

    List<Integer> deepLayers() {
        return deepPromptLayers.stream().filter(i -> i >= 0).toList();
    }
}
