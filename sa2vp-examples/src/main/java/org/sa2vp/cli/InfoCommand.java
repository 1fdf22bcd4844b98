package org.sa2vp.cli;

import org.sa2vp.backbone.Backbone;
import org.sa2vp.backbone.Backbones;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.layers.runtime.NativeEnvironment;
import org.sa2vp.model.AuthorsNames;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.method.TuningMethods;
import org.sa2vp.model.Sa2vpConfig;
import org.sa2vp.model.Sa2vpMethods;
import org.sa2vp.model.Sa2vpSwinConfig;
import org.sa2vp.model.SwinAuthorsNames;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code sa2vp info}: the trainable tensors of an SA2VP configuration and the tuned fraction; for a named variant of
 * another backbone family ({@code --model swin_base_patch4_window7_224}) its stages and size, and SA2VP's tensors where
 * it is registered for that family with the authors' names (Swin).
 */
@Command(name = "info", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Prints every trainable tensor of SA2VP on a ViT or a Swin (the authors' state-dict names and "
                + "shapes), the trainable total with and without the head, and tuned/total in %%.",
        footer = {"", "Example (the paper's ViT-B/16 setting):", "  sa2vp info --model vit_base_patch16_224", "",
                "Another family's variant (its stages, size and SA2VP's tensors):", "  sa2vp info --model swin_base_patch4_window7_224",
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
            return printVariant(Backbones.variant(backbone.model), sa2vp, classes);
        }
        if (!backbone.isVit()) {
            return printVariant(backbone.anyConfig(backbone.anyCheckpoint()), sa2vp, classes);
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
        printTensors(AuthorsNames.shapes(config), AuthorsNames.trainableWithoutHead(config), backboneParams);
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

    /**
     * A registered variant of another family: its architecture, stage by stage, and its size; then, where SA2VP is
     * registered for the family with the authors' names ({@link Sa2vpSwinConfig}), its trainable tensors as for a ViT.
     */
    private static int printVariant(Backbone variant, Sa2vpOptions sa2vp, int classes) {
        System.out.printf("%s (family %s): %s%n", variant.getName(), variant.family(), variant.describe());
        for (Backbone.Stage stage : variant.stages()) {
            System.out.printf("  stage: %dx%d tokens, width %d, depth %d, %d heads%n", stage.gridHeight(),
                    stage.gridWidth(), stage.width(), stage.depth(), stage.numHeads());
        }
        System.out.printf("  backbone %,d parameters; features %d wide%n", variant.parameterCount(),
                variant.featureWidth());
        boolean registered = TuningMethods.variants().stream().anyMatch(v -> v.name().equals(Sa2vpMethods.SA2VP)
                && v.backboneFamily().equals(variant.family()));
        if (!registered) {
            System.out.printf("  SA2VP is not registered for family '%s'; the linear probe and full fine-tuning run%n",
                    variant.family());
            return 0;
        }
        TuningMethod method = TuningMethods.withSettings(TuningMethods.create(Sa2vpMethods.SA2VP, variant, classes),
                sa2vp.settings());
        if (!(method instanceof Sa2vpSwinConfig config)) {
            System.out.printf("  SA2VP on family '%s': %,d trainable values with the head%n", variant.family(),
                    method.trainableParameters());
            return 0;
        }
        System.out.printf("%nSA2VP on %s: interaction in stage %d (image->prompt at blocks %s), rank %d, adapter %d, "
                + "gamma %s, lambda %s, window %d, drop-path %s%n%n", variant.getName(), config.getInteractionStage(),
                config.getImageToPromptBlocks(), config.getPromptRank(), config.getAdapterSize(), config.getGamma(),
                config.getLossWeight(), config.getWindowSize(), config.getBackbone().getDropPathRate());
        printTensors(SwinAuthorsNames.shapes(config), SwinAuthorsNames.trainableWithoutHead(config),
                variant.parameterCount());
        return 0;
    }

    /** One line per trainable tensor (authors' name, shape, count), then the totals and the tuned fraction. */
    private static void printTensors(Map<String, long[]> shapes, long prompts, long backboneParams) {
        long head = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long n = Arrays.stream(e.getValue()).reduce(1, (a, b) -> a * b);
            if (e.getKey().startsWith("class_head")) {
                head += n;
            }
            System.out.printf("  %-62s %-16s %,10d%n", e.getKey(), Arrays.toString(e.getValue()), n);
        }
        System.out.printf("%n  trainable without head %,d; head %,d; total %,d%n", prompts, head, prompts + head);
        System.out.printf("  backbone (frozen) %,d%n", backboneParams);
        System.out.printf("  tuned / total = %,d / %,d = %.2f%% (the authors' printed rate, without head)%n", prompts,
                backboneParams + prompts, 100.0 * prompts / (backboneParams + prompts));
        System.out.printf("  with head: %.2f%%%n", 100.0 * (prompts + head) / (backboneParams + prompts + head));
    }
}
