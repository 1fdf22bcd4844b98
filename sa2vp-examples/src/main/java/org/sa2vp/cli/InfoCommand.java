package org.sa2vp.cli;

import org.sa2vp.backbone.Backbone;
import org.sa2vp.backbone.Backbones;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.layers.runtime.NativeEnvironment;
import org.sa2vp.model.AuthorsNames;
import org.sa2vp.model.Sa2vpConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code sa2vp info}: the trainable tensors of an SA2VP configuration and the tuned fraction; for a named variant of
 * another backbone family ({@code --model swin_base_patch4_window7_224}) its stages and size.
 */
@Command(name = "info", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Prints every trainable tensor of SA2VP on a ViT (the authors' state-dict names and shapes), "
                + "the trainable total with and without the head, and tuned/total in %%.",
        footer = {"", "Example (the paper's ViT-B/16 setting):", "  sa2vp info --model vit_base_patch16_224", "",
                "Another family's variant (its stages and size):", "  sa2vp info --model swin_base_patch4_window7_224",
                "", "What sets the speed on this machine:", "  sa2vp info --system"})
public final class InfoCommand implements Callable<Integer> {

    @Mixin
    BackboneOptions backbone;

    @Mixin
    Sa2vpOptions sa2vp;

    @Option(names = "--classes", paramLabel = "C", defaultValue = "100", description = "classes (default ${DEFAULT-VALUE})")
    int classes;

    @Option(names = "--system", description = "instead: what sets the kernels' speed here (the CPU's vector "
            + "instructions, the OpenBLAS core type in use and who chose it, ND4J's native build, thread settings)")
    boolean system;

    @Override
    public Integer call() {
        if (system) {
            printSystem();
            return 0;
        }
        if (backbone.backbone == null && backbone.model != null
                && !VisionTransformerConfig.variants().contains(backbone.model)) {
            return printVariant(Backbones.variant(backbone.model));
        }
        VitCheckpoint checkpoint = backbone.checkpoint();
        VisionTransformerConfig vit = backbone.config(checkpoint);
        Sa2vpConfig config = sa2vp.toConfig(vit, classes);
        long backboneParams = vit.parameterCount();
        System.out.printf("SA2VP on %s: %dx%d images, patch %d, width %d, depth %d, heads %d%n", vit.getName(),
                vit.getImageHeight(), vit.getImageWidth(), vit.getPatchSize(), vit.getHiddenSize(), vit.getDepth(),
                vit.getNumHeads());
        System.out.printf("rank %d, adapter %d (%s), gamma %s, lambda %s, window %d, image->prompt %s, deep %s%n%n",
                config.getPromptRank(), config.getAdapterSize(), config.getAdapterActivation(), config.getGamma(),
                config.getLossWeight(), config.getWindowSize(), config.getImageToPromptLayers(),
                config.getDeepPromptLayers());
        long head = 0;
        for (Map.Entry<String, long[]> e : AuthorsNames.shapes(config).entrySet()) {
            long n = Arrays.stream(e.getValue()).reduce(1, (a, b) -> a * b);
            if (e.getKey().startsWith("class_head")) {
                head += n;
            }
            System.out.printf("  %-62s %-16s %,10d%n", e.getKey(), Arrays.toString(e.getValue()), n);
        }
        long prompts = AuthorsNames.trainableWithoutHead(config);
        System.out.printf("%n  trainable without head %,d; head %,d; total %,d%n", prompts, head, prompts + head);
        System.out.printf("  backbone (frozen) %,d%n", backboneParams);
        System.out.printf("  tuned / total = %,d / %,d = %.2f%% (the authors' printed rate, without head)%n", prompts,
                backboneParams + prompts, 100.0 * prompts / (backboneParams + prompts));
        System.out.printf("  with head: %.2f%%%n", 100.0 * (prompts + head) / (backboneParams + prompts + head));
        return 0;
    }

    /** {@code --system}: {@link NativeEnvironment}'s facts, one per line. */
    private static void printSystem() {
        String choice = System.getenv("SA2VP_OPENBLAS_CHOICE");
        System.out.printf("CPU: %s%n", NativeEnvironment.cpuModel());
        System.out.printf("vector instructions: %s%n", String.join(" ", NativeEnvironment.vectorFeatures()));
        System.out.printf("OpenBLAS core type in use: %s (%s)%n", NativeEnvironment.openBlasCoreType(),
                choice != null ? choice : System.getenv("OPENBLAS_CORETYPE") != null
                        ? "OPENBLAS_CORETYPE from the environment; the sa2vp launcher did not run"
                        : "detected by OpenBLAS; the sa2vp launcher did not run");
        System.out.printf("ND4J: %s%n", NativeEnvironment.nd4jBuild());
        NativeEnvironment.threadSettings().forEach((name, value) -> System.out.printf("  %-24s %s%n", name, value));
    }

    /** A registered variant of another family: its architecture, stage by stage, and its size. */
    private static int printVariant(Backbone variant) {
        System.out.printf("%s (family %s): %s%n", variant.getName(), variant.family(), variant.describe());
        for (Backbone.Stage stage : variant.stages()) {
            System.out.printf("  stage: %dx%d tokens, width %d, depth %d, %d heads%n", stage.gridHeight(),
                    stage.gridWidth(), stage.width(), stage.depth(), stage.numHeads());
        }
        System.out.printf("  backbone %,d parameters; features %d wide%n", variant.parameterCount(),
                variant.featureWidth());
        System.out.printf("  SA2VP's trainable tensors are listed for ViT backbones; on family '%s' the linear probe "
                + "and full fine-tuning run%n", variant.family());
        return 0;
    }
}
