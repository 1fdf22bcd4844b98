package org.sa2vp.model;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/**
 * The paper's Figure 5: how similar one image token is to every token of the prompt map, after an SA2VP layer. If
 * the prompt map stays spatially aligned with the image, the most similar prompt tokens sit where the image token
 * does.
 *
 * <p>The layer output {@code [B, 2T, D]} holds the image stream (tokens {@code 0..T−1}: class token, then the
 * {@code gridHeight × gridWidth} patches in row-major order) and the prompt stream (tokens {@code T..2T−1}, the
 * same layout).
 */
public final class PromptSimilarity {

    private PromptSimilarity() {
    }

    /**
     * One map per image.
     *
     * @param similarity {@code [gridHeight][gridWidth]} cosine similarity of the query image token with each prompt
     *                   patch token, in [−1, 1]
     * @param queryRow   grid row of the query image token
     * @param queryColumn grid column of the query image token
     */
    public record Map2d(double[][] similarity, int queryRow, int queryColumn) {
    }

    /**
     * Similarity maps after layer {@code layer} (0-based) for images {@code [B, C, H, W]}, in inference mode.
     *
     * @param queries per image, the index of the query patch in row-major grid order
     */
    public static Map2d[] compute(ComputationGraph graph, Sa2vpConfig config, INDArray images, int layer,
                                  int[] queries) {
        int gh = config.getBackbone().gridHeight(), gw = config.getBackbone().gridWidth();
        int tokens = 1 + gh * gw;
        Map<String, INDArray> activations = graph.feedForward(new INDArray[]{images}, false);
        INDArray packed = activations.get(Sa2vpModel.layer(layer));
        if (packed == null || packed.rank() != 3 || packed.size(1) != 2L * tokens) {
            throw new IllegalArgumentException("layer " + layer + " output is not the packed [B, " + 2 * tokens
                    + ", D] streams of this configuration");
        }
        int batch = (int) images.size(0);
        if (queries.length != batch) {
            throw new IllegalArgumentException(batch + " images but " + queries.length + " query tokens");
        }
        double[][][] streams = new double[batch][][];
        for (int b = 0; b < batch; b++) {
            streams[b] = packed.slice(b).castTo(DataType.DOUBLE).toDoubleMatrix();
        }
        Map2d[] maps = new Map2d[batch];
        for (int b = 0; b < batch; b++) {
            int q = queries[b];
            if (q < 0 || q >= gh * gw) {
                throw new IllegalArgumentException("query patch " + q + " outside the " + gh + "x" + gw + " grid");
            }
            double[] query = streams[b][1 + q];
            double[][] map = new double[gh][gw];
            for (int p = 0; p < gh * gw; p++) {
                map[p / gw][p % gw] = cosine(query, streams[b][tokens + 1 + p]);
            }
            maps[b] = new Map2d(map, q / gw, q % gw);
        }
        return maps;
    }

    /**
     * A visually salient patch of each image {@code [B, C, H, W]}: the one whose pixels vary most (standard deviation
     * over its channels and pixels), in row-major grid order; the paper picks "a visually salient token on the
     * object".
     */
    public static int[] salientPatches(INDArray images, int patchSize) {
        int batch = (int) images.size(0), channels = (int) images.size(1);
        int gh = (int) images.size(2) / patchSize, gw = (int) images.size(3) / patchSize;
        int[] out = new int[batch];
        for (int b = 0; b < batch; b++) {
            double best = -1;
            for (int p = 0; p < gh * gw; p++) {
                int r0 = (p / gw) * patchSize, c0 = (p % gw) * patchSize;
                double sum = 0, sumSq = 0;
                int n = 0;
                for (int c = 0; c < channels; c++) {
                    for (int y = r0; y < r0 + patchSize; y++) {
                        for (int x = c0; x < c0 + patchSize; x++) {
                            double v = images.getDouble(b, c, y, x);
                            sum += v;
                            sumSq += v * v;
                            n++;
                        }
                    }
                }
                double variance = sumSq / n - (sum / n) * (sum / n);
                if (variance > best) {
                    best = variance;
                    out[b] = p;
                }
            }
        }
        return out;
    }

    static double cosine(double[] a, double[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.max(Math.sqrt(na * nb), 1e-12);
    }
}
