package org.sa2vp.examples.bench;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.layers.DualPathwayVertex;
import org.sa2vp.layers.InteractionDirection;
import org.sa2vp.layers.SpatiallyAlignedCrossAttention;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Benchmarks of the SA2VP layers (not tests). Usage:
 * <pre>
 *   attention [--batch 8] [--steps 5]         local cross attention at 14×14 and 28×28 grids (ViT-B width):
 *                                              cost must grow ~4× (tokens), not ~16× (tokens²)
 *   vertex [--batch 8] [--steps 3] [--no-torch] one ViT-B DualPathwayVertex, forward and forward+backward,
 *                                              and the same block in PyTorch (tools/bench) in the same run
 * </pre>
 * Each prints one JSON object per measurement as its last lines.
 */
public final class LayerBenchmark {

    private LayerBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("--help")) {
            System.out.println("usage: LayerBenchmark attention|vertex [--batch N] [--steps N] [--no-torch]");
            return;
        }
        int batch = BenchSupport.intArg(args, "--batch", 8);
        Nd4j.getRandom().setSeed(1);
        switch (args[0]) {
            case "attention" -> attention(batch, BenchSupport.intArg(args, "--steps", 5));
            case "vertex" -> vertex(batch, BenchSupport.intArg(args, "--steps", 3), !Arrays.asList(args).contains("--no-torch"));
            default -> throw new IllegalArgumentException("unknown benchmark '" + args[0] + "': attention or vertex");
        }
    }

    private static void attention(int batch, int steps) {
        double[] seconds = new double[2];
        int[] sides = {14, 28};
        for (int i = 0; i < 2; i++) {
            int side = sides[i];
            SpatiallyAlignedCrossAttention ca = new SpatiallyAlignedCrossAttention.Builder().hiddenSize(768)
                    .numHeads(12).queryGrid(side, side).classToken(true).dropout(0).build();
            long tokens = side * side + 1;
            ComputationGraph g = graph(ca, tokens, tokens);
            org.deeplearning4j.nn.graph.vertex.GraphVertex v = g.getVertex("v");
            INDArray q = Nd4j.randn(DataType.FLOAT, batch, tokens, 768);
            INDArray kv = Nd4j.randn(DataType.FLOAT, batch, tokens, 768);
            seconds[i] = BenchSupport.median(steps, () -> {
                v.setInputs(q, kv);
                v.doForward(true, LayerWorkspaceMgr.noWorkspaces());
                v.setEpsilon(q);
                v.doBackward(false, LayerWorkspaceMgr.noWorkspaces());
            });
            System.out.printf("{\"bench\":\"cross_attention\",\"grid\":\"%dx%d\",\"tokens\":%d,\"batch\":%d,"
                    + "\"forward_backward_s\":%.4f}%n", side, side, tokens, batch, seconds[i]);
        }
        System.out.printf("{\"bench\":\"cross_attention_scaling\",\"time_ratio_28_vs_14\":%.2f,"
                + "\"token_ratio\":%.2f,\"token_sq_ratio\":%.2f}%n", seconds[1] / seconds[0], 785.0 / 197,
                Math.pow(785.0 / 197, 2));
    }

    private static void vertex(int batch, int steps, boolean torch) throws Exception {
        DualPathwayVertex conf = new DualPathwayVertex.Builder().hiddenSize(768).numHeads(12).mlpSize(3072)
                .imageGrid(14, 14).classToken(true).direction(InteractionDirection.IMAGE_TO_PROMPT).gamma(0.1)
                .adapterSize(16).deepPrompt(true).deepPromptRank(16).build();
        long tokens = conf.imageTokens() + conf.promptTokens();
        ComputationGraph g = graph(conf, tokens);
        org.deeplearning4j.nn.graph.vertex.GraphVertex v = g.getVertex("v");
        INDArray x = Nd4j.randn(DataType.FLOAT, batch, tokens, 768);
        double forward = BenchSupport.median(steps, () -> {
            v.setInputs(x);
            v.doForward(false, LayerWorkspaceMgr.noWorkspaces());
        });
        double forwardBackward = BenchSupport.median(steps, () -> {
            v.setInputs(x);
            v.doForward(true, LayerWorkspaceMgr.noWorkspaces());
            v.setEpsilon(x);
            v.doBackward(false, LayerWorkspaceMgr.noWorkspaces());
        });
        long rss = BenchSupport.peakRssMb();
        System.out.printf("{\"impl\":\"dl4j-fast\",\"batch\":%d,\"forward_s\":%.3f,\"forward_backward_s\":%.3f,"
                + "\"peak_rss_mb\":%d}%n", batch, forward, forwardBackward, rss);
        if (torch) {
            String torchLine = runTorch(batch, steps);
            System.out.println(torchLine);
            double tf = BenchSupport.field(torchLine, "forward_s"), tfb = BenchSupport.field(torchLine, "forward_backward_s");
            double trss = BenchSupport.field(torchLine, "peak_rss_mb");
            System.out.printf("{\"bench\":\"dual_pathway_vertex_vs_pytorch\",\"forward_ratio\":%.2f,"
                    + "\"forward_backward_ratio\":%.2f,\"peak_rss_ratio\":%.2f}%n", forward / tf,
                    forwardBackward / tfb, rss / trss);
        }
    }

    private static ComputationGraph graph(GraphVertex vertex, long... tokens) {
        String[] in = new String[tokens.length];
        InputType[] types = new InputType[tokens.length];
        for (int i = 0; i < in.length; i++) {
            in[i] = "in" + i;
            types[i] = InputType.recurrent(768, tokens[i], RNNFormat.NWC);
        }
        ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT)
                .graphBuilder().addInputs(in).addVertex("v", vertex, in).setOutputs("v").setInputTypes(types)
                .build());
        g.init();
        g.initGradientsView();
        return g;
    }

    private static String runTorch(int batch, int steps) throws Exception {
        Path script = BenchSupport.repoFile("tools/bench/torch_dual_pathway_block.py");
        return BenchSupport.lastJsonLine(List.of("/usr/bin/python3", script.toString(), "--batch",
                String.valueOf(batch), "--threads", String.valueOf(Runtime.getRuntime().availableProcessors()),
                "--steps", String.valueOf(steps)), "PyTorch benchmark failed (needs Debian python3-torch)");
    }
}
