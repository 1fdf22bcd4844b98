package org.sa2vp.cli;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.sa2vp.backbone.Backbone;
import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.vit.VisionTransformerConfig;
import org.sa2vp.examples.bench.BenchSupport;
import org.sa2vp.backbone.vit.VitCheckpoint;
import org.sa2vp.method.TuningMethod;
import org.sa2vp.method.TuningMethods;
import org.sa2vp.model.Sa2vpConfig;
import org.sa2vp.model.Sa2vpMethods;
import org.sa2vp.model.Sa2vpSwinConfig;
import org.sa2vp.backbone.swin.SwinTransformerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code sa2vp bench}: times one training step of SA2VP or a baseline (a benchmark, not a test). */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Times one training step of --method (SA2VP by default): forward, backward and the AdamW "
                + "update of the trainable tensors (decoupled weight decay 1e-4, lr 1e-3), the authors' dropout "
                + "active, on random images and labels. Frozen weights are random unless --backbone is given. A Swin "
                + "backbone (file or --model swin_...) times the method's Swin variant (SA2VP-Swin with the authors' "
                + "Swin defaults, VPT as the VPT authors' Swin).",
                "The last line is one JSON object with step_s (median), images_per_s and peak_rss_mb; with "
                        + "--compare-pytorch it also holds the same step of the vectorised PyTorch implementation "
                        + "(tools/bench/torch_sa2vp_step.py, Debian python3-torch) measured first in the same run."},
        footer = {"", "Example:", "  sa2vp bench --model vit_base_patch16_224 --batch 8 --steps 3 --threads 2"})
public final class BenchCommand implements Callable<Integer> {

    @Mixin
    BackboneOptions backbone;

    @Mixin
    Sa2vpOptions sa2vp;

    @Option(names = "--method", paramLabel = "METHOD", defaultValue = "sa2vp", description = "the tuning method to "
            + "time: sa2vp (default) or a baseline: linear-probe, vpt-shallow, vpt-deep, full-finetune")
    String method;

    @Option(names = "--batch", defaultValue = "8", description = "images per step (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--steps", defaultValue = "3", description = "timed steps after one warm-up (default ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--threads", defaultValue = "0", description = "CPU threads (default: all cores)")
    int threads;

    @Option(names = "--classes", defaultValue = "100", description = "classes (default ${DEFAULT-VALUE})")
    int classes;

    @Option(names = "--compare-pytorch", description = "also time the vectorised PyTorch step with the same sizes "
            + "(tools/bench/torch_sa2vp_step.py, or torch_sa2vp_swin_step.py for a Swin)")
    boolean comparePytorch;

    @Option(names = "--drop-path", paramLabel = "R", description = "Swin only: stochastic depth rate of the frozen "
            + "blocks while training (default: the authors' " + Sa2vpSwinConfig.AUTHORS_DROP_PATH + "; 0 with "
            + "--dropout 0 times the step without any dropout)")
    Double dropPath;

    @Override
    public Integer call() throws Exception {
        int threadCount = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        BackboneCheckpoint checkpoint;
        Backbone model;
        TuningMethod config;
        String torch = null;
        if (dropPath != null && backbone.isVit()) {
            throw new IllegalArgumentException("--drop-path is stochastic depth of a Swin backbone; SA2VP on the ViT "
                    + "has none");
        }
        boolean isSa2vp = TuningMethods.canonicalName(method).equals(Sa2vpMethods.SA2VP);
        if (!isSa2vp && !sa2vp.isEmpty()) {
            throw new IllegalArgumentException("SA2VP options (--rank, --gamma, ...) apply to --method sa2vp only, not "
                    + method);
        }
        if (!isSa2vp && comparePytorch) {
            throw new IllegalArgumentException("--compare-pytorch times SA2VP (tools/bench/torch_sa2vp_step.py, "
                    + "torch_sa2vp_swin_step.py), not " + method);
        }
        if (backbone.isVit()) {
            VitCheckpoint vitCheckpoint = backbone.checkpoint();
            VisionTransformerConfig vit = backbone.config(vitCheckpoint);
            checkpoint = vitCheckpoint;
            model = vit;
            if (isSa2vp) {
                Sa2vpConfig vitConfig = sa2vp.toConfig(vit, classes);
                torch = comparePytorch ? runPytorch(vitConfig, threadCount) : null;
                config = vitConfig;
            } else {
                config = TuningMethods.create(method, vit, classes);
            }
        } else {
            checkpoint = backbone.anyCheckpoint();
            model = backbone.anyConfig(checkpoint);
            config = isSa2vp ? sa2vp.applyTo(TuningMethods.create(Sa2vpMethods.SA2VP, model, classes))
                    : TuningMethods.create(method, model, classes);
            if (dropPath != null) {
                config = withDropPath(config, dropPath);
            }
            if (comparePytorch) {
                if (!(config instanceof Sa2vpSwinConfig swin)) {
                    throw new IllegalArgumentException("--compare-pytorch times SA2VP on the ViT or the Swin; "
                            + model.getName() + " is a " + model.family());
                }
                torch = runPytorchSwin(swin, threadCount);
            }
        }
        Nd4j.getEnvironment().setMaxThreads(threadCount);
        Nd4j.getEnvironment().setMaxMasterThreads(threadCount);
        Nd4j.factory().blas().setMaxThreads(threadCount);
        ComputationGraph graph = new ComputationGraph(config.configuration(new NeuralNetConfiguration.Builder()
                .seed(42).dataType(DataType.FLOAT).updater(new Adam(1e-3)).weightDecay(1e-4, true)));
        graph.init();
        if (checkpoint != null) {
            config.loadBackbone(graph, checkpoint);
        }
        Nd4j.getRandom().setSeed(1);
        INDArray images = Nd4j.rand(DataType.FLOAT, batch, model.getInChannels(), model.getImageHeight(),
                model.getImageWidth()).subi(0.5).muli(2);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, batch, classes);
        for (int i = 0; i < batch; i++) {
            labels.putScalar(i, i % classes, 1.0);
        }
        MultiDataSet step = new MultiDataSet(new INDArray[]{images}, config.labels(labels));
        graph.fit(step);
        List<Double> times = new ArrayList<>();
        for (int i = 0; i < steps; i++) {
            long t0 = System.nanoTime();
            graph.fit(step);
            times.add((System.nanoTime() - t0) / 1e9);
            System.err.printf("step %d/%d: %.3f s%n", i + 1, steps, times.get(i));
        }
        times.sort(Double::compare);
        double median = times.get(times.size() / 2);
        long rss = BenchSupport.peakRssMb();
        StringBuilder json = new StringBuilder(String.format("{\"impl\":\"dl4j\",\"model\":\"%s\",\"batch\":%d,"
                + "\"threads\":%d,\"step_s\":%.3f,\"images_per_s\":%.3f,\"peak_rss_mb\":%d", model.getName(), batch,
                threadCount, median, batch / median, rss));
        if (torch != null) {
            double torchStep = BenchSupport.field(torch, "step_s");
            double torchRss = BenchSupport.field(torch, "peak_rss_mb");
            json.append(String.format(",\"pytorch_step_s\":%.3f,\"pytorch_peak_rss_mb\":%.0f,\"step_ratio\":%.2f,"
                    + "\"rss_ratio\":%.2f", torchStep, torchRss, median / torchStep, rss / torchRss));
        }
        System.out.println(json.append("}"));
        return 0;
    }

    /** SA2VP-Swin with the frozen blocks' stochastic depth set to {@code rate}. */
    private static TuningMethod withDropPath(TuningMethod config, double rate) {
        if (!(config instanceof Sa2vpSwinConfig swin)) {
            throw new IllegalArgumentException("--drop-path sets the stochastic depth of SA2VP-Swin's frozen blocks, "
                    + "not of " + config.methodName());
        }
        return swin.withBackbone(swin.getBackbone().withDropPathRate(rate)).validated();
    }

    private String runPytorchSwin(Sa2vpSwinConfig c, int threadCount) throws Exception {
        SwinTransformerConfig s = c.getBackbone();
        if (s.getImageHeight() != s.getImageWidth() || !s.isQkvBias() || s.getMlpRatio() != 4.0
                || s.getInChannels() != 3 || c.getAttentionDropout() != c.getAdapterDropout()) {
            throw new IllegalArgumentException("--compare-pytorch times square RGB Swins with qkv biases, MLP ratio 4 "
                    + "and one dropout rate (tools/bench/torch_sa2vp_swin_step.py); " + s.describe() + " is not one");
        }
        Path script = BenchSupport.repoFile("tools/bench/torch_sa2vp_swin_step.py");
        List<String> cmd = List.of("/usr/bin/python3", script.toString(), "--batch", "" + batch, "--steps", "" + steps,
                "--threads", "" + threadCount, "--image", "" + s.getImageHeight(), "--patch", "" + s.getPatchSize(),
                "--embed", "" + s.getEmbedDim(), "--depths", joined(s.getDepths()), "--heads", joined(s.getNumHeads()),
                "--window", "" + s.getWindowSize(), "--stage", "" + c.getInteractionStage(), "--image-to-prompt",
                joined(c.getImageToPromptBlocks()), "--local-window", "" + c.getWindowSize(), "--rank",
                "" + c.getPromptRank(), "--adapter", "" + c.getAdapterSize(), "--gamma", "" + c.getGamma(),
                "--classes", "" + c.getNumClasses(), "--dropout", "" + c.getAttentionDropout(), "--drop-path",
                "" + s.getDropPathRate());
        return runScript(cmd);
    }

    private static String joined(List<Integer> values) {
        return String.join(",", values.stream().map(String::valueOf).toList());
    }

    private String runPytorch(Sa2vpConfig c, int threadCount) throws Exception {
        VisionTransformerConfig v = c.getBackbone();
        Path script = BenchSupport.repoFile("tools/bench/torch_sa2vp_step.py");
        List<String> cmd = List.of("/usr/bin/python3", script.toString(), "--batch", "" + batch, "--steps", "" + steps,
                "--threads", "" + threadCount, "--width", "" + v.getHiddenSize(), "--depth", "" + v.getDepth(),
                "--heads", "" + v.getNumHeads(), "--mlp", "" + v.effectiveMlpSize(), "--image", "" + v.getImageHeight(),
                "--patch", "" + v.getPatchSize(), "--rank", "" + c.getPromptRank(), "--adapter", "" + c.getAdapterSize(),
                "--classes", "" + c.getNumClasses());
        return runScript(cmd);
    }

    private static String runScript(List<String> cmd) throws Exception {
        System.err.println("PyTorch: " + String.join(" ", cmd));
        // PyTorch (Debian's, on OpenBLAS and libgomp) gains from the same thread settings as we do, so it gets them too:
        // the comparison is between the two implementations, not between two environments.
        String last = BenchSupport.lastJsonLine(cmd, BenchSupport.NATIVE_THREAD_ENVIRONMENT,
                "the PyTorch benchmark failed (needs Debian python3-torch)");
        System.err.println(last);
        return last;
    }
}
