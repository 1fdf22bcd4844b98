package org.sa2vp.examples;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.sa2vp.layers.Parameters;
import org.sa2vp.method.TrainedValues;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Serves many tasks from one frozen backbone in one JVM: the backbone and the graph are loaded once, every task's
 * adapter is read once into memory ({@link TrainedValues}, a few MB for SA2VP on ViT-B), and each request switches
 * the graph to its task's values before classifying. All adapters must share one method configuration (the same
 * method, backbone and class count), which is what makes the switch a copy of the trained values only.
 * <pre>
 *   java -cp sa2vp.jar org.sa2vp.examples.ServeManyAdapters CHECKPOINT IMAGE ADAPTER [ADAPTER ...]
 * </pre>
 */
public final class ServeManyAdapters {

    private final EvaluateAndPredict.Model model;
    private final Map<Path, TrainedValues> tasks = new LinkedHashMap<>();
    private Path current;

    /** Loads the backbone once, with the first adapter's configuration, then every adapter's trained values. */
    public ServeManyAdapters(String checkpointFile, List<Path> adapters) {
        model = EvaluateAndPredict.Model.load(checkpointFile, adapters.get(0));
        for (Path adapter : adapters) {
            if (!org.sa2vp.method.TuningMethods.trainedBy(adapter).equals(model.method())) {
                throw new IllegalArgumentException(adapter + ": trained with another configuration than "
                        + adapters.get(0) + "; serve it from its own graph");
            }
            model.method().loadTrained(model.graph(), adapter);
            tasks.put(adapter, TrainedValues.capture(model.graph(), model.method()));
        }
        current = adapters.get(adapters.size() - 1);
    }

    /**
     * Classifies {@code image} with {@code task}'s adapter (switching to it when another task ran last). One request
     * at a time: the switch rewrites the shared graph's trained values, so concurrent callers are serialised.
     */
    public synchronized EvaluateAndPredict.Prediction predict(Path task, Path image) {
        if (!task.equals(current)) {
            TrainedValues values = tasks.get(task);
            if (values == null) {
                throw new IllegalArgumentException("no adapter " + task + " loaded; loaded: " + tasks.keySet());
            }
            values.apply(model.graph());
            current = task;
        }
        return model.predict(image);
    }

    /** Bytes one more task costs: its trained values (the graph and backbone are shared). */
    public long bytesPerTask() {
        return tasks.values().iterator().next().bytes();
    }

    /** Bytes of the shared graph's parameters (the frozen backbone and one task's values), every vertex's. */
    public long sharedBytes() {
        long bytes = 0;
        for (org.deeplearning4j.nn.graph.vertex.GraphVertex v : model.graph().getVertices()) {
            Map<String, INDArray> table = Parameters.of(model.graph(), v.getVertexName());
            if (table != null) {
                bytes += table.values().stream().mapToLong(a -> a.length() * a.dataType().width()).sum();
            }
        }
        return bytes;
    }

    public static void main(String[] args) {
        if (args.length < 3) {
            System.err.println("usage: ServeManyAdapters CHECKPOINT IMAGE ADAPTER [ADAPTER ...]");
            System.exit(2);
        }
        List<Path> adapters = java.util.Arrays.stream(args).skip(2).map(Path::of).toList();
        ServeManyAdapters server = new ServeManyAdapters(args[0], adapters);
        System.out.printf("shared graph %,d bytes; each task adds %,d bytes%n", server.sharedBytes(),
                server.bytesPerTask());
        for (Path task : adapters) {
            EvaluateAndPredict.Prediction p = server.predict(task, Path.of(args[1]));
            System.out.printf("%s: class %d (%.1f%%)%n", task, p.label(), 100 * p.probability());
        }
    }
}
