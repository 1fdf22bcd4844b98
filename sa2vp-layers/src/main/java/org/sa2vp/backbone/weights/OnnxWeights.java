package org.sa2vp.backbone.weights;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * The weights of a PyTorch model exported to ONNX (torchvision, timm, Hugging Face; opset 13-17), given back as the
 * PyTorch state dict they came from: the exporter's original parameter names, with PyTorch layouts.
 *
 * <p>Why this is not just "the initializers": with {@code do_constant_folding=True} (the default),
 * {@code torch.onnx.export} keeps a parameter under its own name only where the graph uses it unchanged. A
 * {@code nn.Linear} applied to a 3-D tensor ({@code [batch, tokens, in]}) is exported as {@code MatMul(x, W^T)}
 * followed by {@code Add(bias, .)}, and the folded {@code W^T} becomes an anonymous initializer such as
 * {@code onnx::MatMul_367} with layout {@code [in, out]}. This class recovers such weights:
 * <ul>
 *   <li>{@code MatMul(x, W[in, out])} whose output is added to a named initializer {@code P.bias} (or, as for
 *       torchvision's {@code nn.MultiheadAttention}, {@code P.in_proj_bias}) of size {@code out} becomes
 *       {@code P.weight} (or {@code P.in_proj_weight}) {@code = W^T}, shape {@code [out, in]}. torch 1.13 exports
 *       torchvision's self-attention ({@code q is k is v}) as one MatMul with the packed {@code [D, 3D]} matrix
 *       whose output is sliced into q, k, v, so {@code in_proj_weight} {@code [3D, D]} comes back whole;</li>
 *   <li>{@code Gemm(x, W, C)} with an anonymous {@code W} and named bias {@code C}: {@code W} as stored when
 *       {@code transB=1} ({@code [out, in]}), transposed when {@code transB=0}. (torch's own 2-D Linear export is
 *       {@code Gemm(transB=1)} on the named weight, which needs no recovery);</li>
 *   <li>a bias-free Linear ({@code MatMul} or {@code Gemm} with no bias): named from the module scope that torch
 *       (1.13 and later) writes into node names, e.g. node {@code /blocks/blocks.0/attn/qkv/MatMul} gives
 *       {@code blocks.0.attn.qkv.weight}, but only where that scope holds nothing except this one Linear
 *       ({@link #isLinearModuleScope}), so that a weight used functionally inside another module is not
 *       misnamed.</li>
 * </ul>
 * A family may add rules for what its exporter folds beyond Linear weights ({@link FoldedParameter}, e.g. Swin's
 * relative position bias gathered from its table), tried on the anonymous initializers these rules do not name.
 * Initializers with real names are kept as stored. torch's exporter also merges parameters with identical values
 * (e.g. all LayerNorm weights of a freshly initialised model are ones) into one initializer and recreates each
 * merged one as {@code Identity(kept) -> original name}; those names are recovered too, with the kept value, and
 * an anonymous weight shared by several Linear layers gets one key per layer. Anonymous integer tensors (shapes,
 * indices) and one-element constants (attention scale, LayerNorm epsilon, GELU's sqrt(2)) are not parameters and
 * are dropped. Any other anonymous initializer cannot be named reliably and is reported in one
 * {@link CheckpointException} that lists them all.
 *
 * <p>Keys are in file order (torch writes initializers in state-dict order) with each recovered weight just
 * before its bias; merged parameters follow in graph order.
 *
 * <p>Also read from the graph: the opset version, and the number of attention heads. For each {@code Softmax} the
 * graph is walked back to the score {@code MatMul(q, k^T)}, multiplying up the scalar constants applied on the way
 * ({@code Div} by {@code sqrt(dh)} in torchvision and Hugging Face, {@code Mul} by {@code dh^-0.5} in timm), and on
 * to the q/k projection whose input width is {@code D}; then {@code dh = 1 / scale^2} and {@code heads = D / dh}.
 */
public final class OnnxWeights {

    /** Ops that pass a tensor through unchanged in value (only reshaped, permuted or split) on the walk to q/k. */
    private static final List<String> LAYOUT_OPS = List.of("Transpose", "Reshape", "Squeeze", "Unsqueeze",
            "Identity", "Cast", "Split", "Slice", "Gather", "Flatten");
    private static final int MAX_WALK = 32;
    private static final int MAX_LISTED = 8;

    /**
     * A family's rule for an anonymous initializer that torch's constant folding computed from a parameter other
     * than a Linear weight (Swin: {@code relative_position_bias_table[relative_position_index]}, folded into the
     * bias added to the attention scores) or from a buffer that is no parameter (Swin: a persistent shift mask).
     */
    @FunctionalInterface
    public interface FoldedParameter {
        /**
         * The parameter {@code folded} was computed from, {@link Unfolded#buffer} when it is a buffer to leave out,
         * or empty when this rule does not apply to it.
         *
         * @param folded an anonymous floating-point initializer of more than one element
         * @param reader the one node that reads it
         * @param module the torch module path of {@code reader} from its scoped name
         *               ({@code /layers/layers.0/blocks/blocks.1/attn/Add} gives {@code layers.0.blocks.1.attn}),
         *               or {@code null} when the name carries no scope
         * @throws CheckpointException one line naming the initializer (the model is named before it), where it
         *                             has this rule's shape and use but values no parameter could have given
         */
        Optional<Unfolded> unfold(OnnxTensor folded, OnnxModel.Node reader, String module);
    }

    /**
     * What a {@link FoldedParameter} rule found: a parameter, or ({@link #buffer}) a constant buffer the family
     * recomputes, which is left out of the state dict.
     *
     * @param name  its state-dict name; null for a buffer
     * @param value its value, float32, PyTorch layout; null for a buffer
     * @param how   how it was recovered, for {@link #origins()}, or what the buffer is
     */
    public record Unfolded(String name, INDArray value, String how) {

        /** A folded buffer that is no parameter (Swin's shift mask), e.g. {@code how} "shift mask". */
        public static Unfolded buffer(String how) {
            return new Unfolded(null, null, how);
        }

        /** Whether this is a {@link #buffer}, left out of the state dict. */
        public boolean isBuffer() {
            return name == null;
        }
    }

    private final OnnxModel model;
    private final StateDict stateDict;
    private final Map<String, String> origins;
    private final List<Integer> headsPerAttention;

    private OnnxWeights(OnnxModel model, StateDict stateDict, Map<String, String> origins,
                        List<Integer> headsPerAttention) {
        this.model = model;
        this.stateDict = stateDict;
        this.origins = origins;
        this.headsPerAttention = headsPerAttention;
    }

    /** Reads {@code file} and recovers its state dict; see the class comment. */
    public static OnnxWeights read(Path file) {
        return of(OnnxModel.read(file));
    }

    /** Recovers the state dict of an already parsed model. */
    public static OnnxWeights of(OnnxModel model) {
        return of(model, List.of());
    }

    /** As {@link #of(OnnxModel)}, also trying a family's {@code rules} on what the Linear rules leave unnamed. */
    public static OnnxWeights of(OnnxModel model, List<FoldedParameter> rules) {
        GraphIndex graph = new GraphIndex(model);
        return new Recovery(model, graph, rules).run();
    }

    /**
     * The parameter names {@code model} keeps without recovery, from its structure alone (no tensor is read):
     * the initializers with real names in file order, then the parameters torch merged into an identical one. The
     * exporter keeps every parameter name except those of Linear weights it stored transposed and of constants it
     * folded, so these name the family and naming of a torch export.
     */
    public static List<String> parameterNames(OnnxModel model) {
        return List.copyOf(new GraphIndex(model).parameters.keySet());
    }

    /** The recovered parameters, float32 'c' order, PyTorch names and layouts. Source: the file name. */
    public StateDict stateDict() {
        return stateDict;
    }

    /**
     * For each state-dict key, the ONNX initializer it came from and how, e.g.
     * {@code "onnx::MatMul_367 [32, 96] transposed (MatMul + Add of encoder...in_proj_bias)"}.
     */
    public Map<String, String> origins() {
        return origins;
    }

    public OnnxModel model() {
        return model;
    }

    /** The standard-domain opset the model was exported with. */
    public OptionalLong opsetVersion() {
        return model.opsetVersion();
    }

    /**
     * The attention head count: present when it could be inferred for at least one attention and all inferred
     * counts agree (see {@link #headsPerAttention()}).
     */
    public OptionalInt numHeads() {
        if (headsPerAttention.isEmpty()) {
            return OptionalInt.empty();
        }
        int first = headsPerAttention.get(0);
        for (int h : headsPerAttention) {
            if (h != first) {
                return OptionalInt.empty();
            }
        }
        return OptionalInt.of(first);
    }

    /**
     * The head count of each attention (each {@code Softmax}) in graph order, for those where it could be
     * inferred; e.g. a Swin model has a different count per stage.
     */
    public List<Integer> headsPerAttention() {
        return headsPerAttention;
    }

    /**
     * Whether an initializer name looks like a real parameter name rather than one made up by the exporter: torch
     * uses {@code onnx::Op_123} and {@code /scope/Op_output_0}, older versions plain numbers.
     */
    static boolean isParameterName(String name) {
        return !name.isEmpty() && !name.contains("::") && !name.startsWith("/") && !name.chars()
                .allMatch(Character::isDigit);
    }

    /**
     * The module path of a node from its torch (1.13+) scoped name, e.g. {@code /blocks/blocks.0/attn/qkv/MatMul}
     * to {@code blocks.0.attn.qkv}; {@code null} if the name carries no scope. Each scope component is torch's
     * {@code _unqualified_variable_name} of the module, i.e. its qualified name from the last non-numeric atom on
     * ({@code mlp.0}, {@code layer.0}), so a component that starts with atoms the parent path already ends with
     * (followed only by numeric atoms) only adds those numeric atoms.
     */
    static String moduleNameFromScope(String nodeName) {
        if (!nodeName.startsWith("/")) {
            return null;
        }
        String[] parts = nodeName.substring(1).split("/");
        if (parts.length < 2) {
            return null;
        }
        List<String> path = new ArrayList<>();
        for (int p = 0; p < parts.length - 1; p++) {
            String[] atoms = parts[p].split("\\.");
            if (parts[p].isEmpty() || Arrays.stream(atoms).anyMatch(String::isEmpty)) {
                return null;
            }
            int overlap = 0;
            for (int k = atoms.length - 1; k >= 1; k--) {
                if (allNumeric(atoms, k) && endsWith(path, atoms, k)) {
                    overlap = k;
                    break;
                }
            }
            path.addAll(Arrays.asList(atoms).subList(overlap, atoms.length));
        }
        return String.join(".", path);
    }

    /**
     * Whether the scope of {@code node} looks like the scope of an {@code nn.Linear} call: every node in it (and
     * there are no nested scopes) is a MatMul, Gemm, Add or Transpose, and exactly one is a MatMul or Gemm. This
     * keeps scope naming away from weights used functionally inside another module, such as
     * {@code nn.MultiheadAttention} calling {@code F.linear(x, self.out_proj.weight)} in its own scope.
     */
    static boolean isLinearModuleScope(List<OnnxModel.Node> nodes, OnnxModel.Node node) {
        int cut = node.name().lastIndexOf('/');
        if (cut <= 0) {
            return false;
        }
        String prefix = node.name().substring(0, cut + 1);
        int products = 0;
        for (OnnxModel.Node other : nodes) {
            if (!other.name().startsWith(prefix)) {
                continue;
            }
            String local = other.name().substring(prefix.length());
            boolean linearOp = other.opType().equals("MatMul") || other.opType().equals("Gemm");
            if (local.contains("/") || !(linearOp || other.opType().equals("Add")
                    || other.opType().equals("Transpose"))) {
                return false;
            }
            if (linearOp) {
                products++;
            }
        }
        return products == 1;
    }

    private static boolean allNumeric(String[] atoms, int from) {
        for (int i = from; i < atoms.length; i++) {
            if (!atoms[i].chars().allMatch(Character::isDigit)) {
                return false;
            }
        }
        return true;
    }

    private static boolean endsWith(List<String> path, String[] atoms, int count) {
        if (path.size() < count) {
            return false;
        }
        for (int i = 0; i < count; i++) {
            if (!path.get(path.size() - count + i).equals(atoms[i])) {
                return false;
            }
        }
        return true;
    }

    /** Producers, consumers and known constant values of every tensor in the main graph. */
    private static final class GraphIndex {
        final Map<String, OnnxTensor> constants;
        final Map<String, OnnxModel.Node> producers = new HashMap<>();
        final Map<String, List<Use>> consumers = new HashMap<>();
        final List<OnnxModel.Node> nodes;
        /**
         * Tensors with real parameter names: the named initializers in file order, then the parameters that
         * torch's export merged into an identical one, in graph order. torch (1.12+) keeps only one initializer
         * per distinct value and recreates each merged parameter as {@code Identity(kept) -> original name}; a
         * freshly initialised model has many (all LayerNorm weights are ones).
         */
        final Map<String, OnnxTensor> parameters = new LinkedHashMap<>();

        record Use(OnnxModel.Node node, int input) {
        }

        GraphIndex(OnnxModel model) {
            constants = model.constants();
            nodes = model.graph().nodes();
            for (OnnxTensor t : model.graph().initializers().values()) {
                if (isParameterName(t.name())) {
                    parameters.put(t.name(), t);
                }
            }
            for (OnnxModel.Node node : nodes) {
                for (String out : node.outputs()) {
                    producers.put(out, node);
                }
                for (int i = 0; i < node.inputs().size(); i++) {
                    consumers.computeIfAbsent(node.inputs().get(i), k -> new ArrayList<>()).add(new Use(node, i));
                }
                OnnxTensor aliased = node.opType().equals("Identity") ? constants.get(node.input(0)) : null;
                if (aliased != null && node.outputs().size() == 1) {
                    String alias = node.outputs().get(0);
                    constants.put(alias, aliased);
                    if (isParameterName(alias)) {
                        parameters.putIfAbsent(alias, aliased);
                    }
                }
            }
        }

        List<Use> uses(String tensor) {
            return consumers.getOrDefault(tensor, List.of());
        }

        boolean isConstant(String tensor) {
            return constants.containsKey(tensor);
        }

        /** The value of a one-element floating-point constant, or NaN if {@code tensor} is not one. */
        double scalarFloat(String tensor) {
            OnnxTensor t = constants.get(tensor);
            if (t == null || !t.elementType().isFloatingPoint() || t.numElements() != 1) {
                return Double.NaN;
            }
            return t.singleValue().orElse(Double.NaN);
        }
    }

    /** One recovered anonymous initializer. {@code bias} is the named bias it was found through, or null. */
    private record Recovered(String name, INDArray value, String bias, String origin) {
    }

    /** The name recovery and head inference for one model. */
    private static final class Recovery {
        private final OnnxModel model;
        private final GraphIndex graph;
        private final String source;
        private final List<FoldedParameter> rules;

        Recovery(OnnxModel model, GraphIndex graph, List<FoldedParameter> rules) {
            this.model = model;
            this.graph = graph;
            this.source = model.source();
            this.rules = rules;
        }

        OnnxWeights run() {
            Map<String, List<Recovered>> byBias = new HashMap<>();
            List<Recovered> unbiased = new ArrayList<>();
            List<String> unnamed = new ArrayList<>();
            for (OnnxTensor t : model.graph().initializers().values()) {
                if (isParameterName(t.name()) || isPureConstant(t)) {
                    continue;
                }
                List<Recovered> recovered = recoverLinearWeight(t);
                if (recovered.isEmpty()) {
                    Optional<Recovered> folded = unfold(t);
                    if (folded.isPresent() && folded.get().name() == null) {
                        continue; // a buffer the family recomputes
                    }
                    recovered = folded.map(List::of).orElse(List.of());
                }
                if (recovered.isEmpty()) {
                    unnamed.add(describeUnnamed(t));
                }
                for (Recovered r : recovered) {
                    if (r.bias() == null) {
                        unbiased.add(r);
                    } else {
                        byBias.computeIfAbsent(r.bias(), k -> new ArrayList<>()).add(r);
                    }
                }
            }
            if (!unnamed.isEmpty()) {
                List<String> listed = unnamed.subList(0, Math.min(MAX_LISTED, unnamed.size()));
                throw new CheckpointException(source + ": cannot recover PyTorch names for " + unnamed.size()
                        + " anonymous initializer(s): " + String.join(", ", listed)
                        + (unnamed.size() > MAX_LISTED ? ", and " + (unnamed.size() - MAX_LISTED) + " more" : "")
                        + "; expected Linear weights (MatMul/Gemm followed by a named '...bias' initializer, or "
                        + "inside a named module scope)");
            }
            Map<String, INDArray> tensors = new LinkedHashMap<>();
            Map<String, String> origins = new LinkedHashMap<>();
            for (Map.Entry<String, OnnxTensor> p : graph.parameters.entrySet()) {
                for (Recovered weight : byBias.getOrDefault(p.getKey(), List.of())) {
                    put(tensors, origins, weight.name(), weight.value(), weight.origin());
                }
                String origin = p.getKey().equals(p.getValue().name()) ? "initializer " + p.getKey() + " as stored"
                        : "initializer " + p.getValue().name() + " (torch merged this identical parameter into it)";
                put(tensors, origins, p.getKey(), p.getValue().toFloatArray(), origin);
            }
            for (Recovered r : unbiased) {
                put(tensors, origins, r.name(), r.value(), r.origin());
            }
            return new OnnxWeights(model, new StateDict(source, tensors), Collections.unmodifiableMap(origins),
                    List.copyOf(inferHeads()));
        }

        /**
         * The parameter a family's rule recovers from {@code t}, read by one node (a buffer the rule recognises:
         * named null); empty if no rule applies.
         */
        private Optional<Recovered> unfold(OnnxTensor t) {
            List<GraphIndex.Use> uses = graph.uses(t.name());
            if (rules.isEmpty() || uses.size() != 1 || !t.elementType().isFloatingPoint()) {
                return Optional.empty();
            }
            OnnxModel.Node reader = uses.get(0).node();
            for (FoldedParameter rule : rules) {
                Optional<Unfolded> found;
                try {
                    found = rule.unfold(t, reader, moduleNameFromScope(reader.name()));
                } catch (CheckpointException e) {
                    throw new CheckpointException(source + ": " + e.getMessage(), e);
                }
                if (found.isPresent()) {
                    Unfolded u = found.get();
                    return Optional.of(new Recovered(u.name(), u.value(), null, t.name() + " "
                            + Arrays.toString(t.dims()) + " " + u.how() + " (read by " + reader.opType() + " '"
                            + reader.name() + "')"));
                }
            }
            return Optional.empty();
        }

        /** Shapes, indices, masks (integer tensors) and scalars such as sqrt(dh) or epsilon: not parameters. */
        private static boolean isPureConstant(OnnxTensor t) {
            return t.elementType().isInteger() || t.numElements() <= 1;
        }

        private void put(Map<String, INDArray> tensors, Map<String, String> origins, String key, INDArray value,
                         String origin) {
            if (tensors.containsKey(key)) {
                throw new CheckpointException(source + ": key '" + key + "' recovered twice: from "
                        + origins.get(key) + " and from " + origin);
            }
            tensors.put(key, value);
            origins.put(key, origin);
        }

        private String describeUnnamed(OnnxTensor t) {
            List<GraphIndex.Use> uses = graph.uses(t.name());
            String usedBy = uses.isEmpty() ? "unused"
                    : "input " + uses.get(0).input() + " of " + uses.get(0).node().opType() + " '"
                    + uses.get(0).node().name() + "'" + (uses.size() > 1 ? " and " + (uses.size() - 1) + " more" : "");
            return t.name() + " " + Arrays.toString(t.dims()) + " (" + usedBy + ")";
        }

        /**
         * The names and PyTorch values of an anonymous 2-D float initializer used only as the weight of Linear
         * layers (MatMul input 1 or Gemm input 1), one per distinct name (torch may have merged identical weights
         * of several layers into one initializer); empty if any use is not such a Linear or cannot be named.
         */
        private List<Recovered> recoverLinearWeight(OnnxTensor t) {
            List<GraphIndex.Use> uses = graph.uses(t.name());
            if (t.rank() != 2 || !t.elementType().isFloatingPoint() || uses.isEmpty()) {
                return List.of();
            }
            Map<String, Recovered> byName = new LinkedHashMap<>();
            for (GraphIndex.Use use : uses) {
                Recovered r = use.input() != 1 ? null
                        : use.node().opType().equals("MatMul") ? fromMatMul(use.node(), t)
                        : use.node().opType().equals("Gemm") ? fromGemm(use.node(), t)
                        : null;
                if (r == null) {
                    return List.of();
                }
                byName.putIfAbsent(r.name(), r);
            }
            return List.copyOf(byName.values());
        }

        /** {@code MatMul(x, W[in, out])}: the weight is {@code W^T}, named after the bias added to the output. */
        private Recovered fromMatMul(OnnxModel.Node matMul, OnnxTensor w) {
            long out = w.dims()[1];
            String output = matMul.outputs().get(0);
            String bias = null;
            boolean addsConstant = false;
            for (GraphIndex.Use use : graph.uses(output)) {
                if (use.node().opType().equals("Add") && use.node().inputs().size() == 2) {
                    String other = use.node().input(1 - use.input());
                    if (graph.isConstant(other)) {
                        addsConstant = true;
                        if (isBiasFor(other, out)) {
                            bias = other;
                        }
                    }
                }
            }
            String how = w.name() + " " + Arrays.toString(w.dims()) + " transposed";
            if (bias != null) {
                return new Recovered(weightNameFor(bias), transposed(w), bias,
                        how + " (MatMul + Add of " + bias + ")");
            }
            return addsConstant ? null : fromScope(matMul, transposed(w), how);
        }

        /** {@code Gemm(x, W, C)}: {@code W} is {@code [out, in]} when {@code transB=1}, else {@code [in, out]}. */
        private Recovered fromGemm(OnnxModel.Node gemm, OnnxTensor w) {
            if (gemm.floatAttribute("alpha", 1f) != 1f) {
                return null;
            }
            boolean transB = gemm.intAttribute("transB", 0) != 0;
            long out = transB ? w.dims()[0] : w.dims()[1];
            INDArray value = transB ? w.toFloatArray() : transposed(w);
            String how = w.name() + " " + Arrays.toString(w.dims()) + (transB ? " as stored" : " transposed");
            String bias = gemm.input(2);
            if (bias.isEmpty()) {
                return fromScope(gemm, value, how);
            }
            if (!isBiasFor(bias, out) || gemm.floatAttribute("beta", 1f) != 1f) {
                return null;
            }
            return new Recovered(weightNameFor(bias), value, bias, how + " (Gemm with " + bias + ")");
        }

        private Recovered fromScope(OnnxModel.Node node, INDArray value, String how) {
            String module = moduleNameFromScope(node.name());
            if (module == null || module.isEmpty() || !isLinearModuleScope(graph.nodes, node)) {
                return null;
            }
            return new Recovered(module + ".weight", value, null, how + " (bias-free " + node.opType()
                    + " in scope of node " + node.name() + ")");
        }

        /** A named 1-D parameter of size {@code out} whose name ends in "bias". */
        private boolean isBiasFor(String tensor, long out) {
            OnnxTensor b = graph.parameters.get(tensor);
            return b != null && tensor.endsWith("bias") && b.rank() == 1
                    && b.dims()[0] == out && b.elementType().isFloatingPoint();
        }

        /** {@code X.bias} to {@code X.weight}, {@code X.in_proj_bias} to {@code X.in_proj_weight}. */
        private static String weightNameFor(String biasName) {
            return biasName.substring(0, biasName.length() - "bias".length()) + "weight";
        }

        private static INDArray transposed(OnnxTensor w) {
            return w.toFloatArrayTransposed();
        }

        private List<Integer> inferHeads() {
            List<Integer> heads = new ArrayList<>();
            for (OnnxModel.Node node : graph.nodes) {
                if (node.opType().equals("Softmax")) {
                    int h = headsFor(node);
                    if (h > 0) {
                        heads.add(h);
                    }
                }
            }
            return heads;
        }

        /** The head count of the attention ending in {@code softmax}, or -1. */
        private int headsFor(OnnxModel.Node softmax) {
            double[] scale = {1.0};
            OnnxModel.Node scores = walkToScores(softmax.input(0), scale, 0);
            if (scores == null) {
                return -1;
            }
            long width = -1;
            for (String operand : scores.inputs()) {
                long w = walkToProjection(operand, scale, 0);
                if (w > 0 && width > 0 && w != width) {
                    return -1;
                }
                width = Math.max(width, w);
            }
            if (width <= 0 || scale[0] == 1.0 || !(scale[0] > 0)) {
                return -1;
            }
            double headDim = 1.0 / (scale[0] * scale[0]);
            long dh = Math.round(headDim);
            if (dh < 1 || Math.abs(headDim - dh) > 1e-3 * headDim || width % dh != 0) {
                return -1;
            }
            return (int) (width / dh);
        }

        /**
         * Walks back from a Softmax input to the {@code MatMul(q, k^T)} of two computed tensors, through scalar
         * {@code Div}/{@code Mul} (folded into {@code scale}), additive masks or position biases, and layout ops.
         */
        private OnnxModel.Node walkToScores(String tensor, double[] scale, int depth) {
            OnnxModel.Node p = graph.producers.get(tensor);
            if (p == null || depth > MAX_WALK) {
                return null;
            }
            switch (p.opType()) {
                case "MatMul":
                    return !graph.isConstant(p.input(0)) && !graph.isConstant(p.input(1)) ? p : null;
                case "Div":
                case "Mul": {
                    int operand = scaleOperand(p);
                    if (operand < 0) {
                        return null;
                    }
                    double c = graph.scalarFloat(p.input(1 - operand));
                    scale[0] = p.opType().equals("Div") ? scale[0] / c : scale[0] * c;
                    return walkToScores(p.input(operand), scale, depth + 1);
                }
                case "Add":
                    for (int i = 0; i < 2; i++) {
                        if (!graph.isConstant(p.input(i))) {
                            double[] branchScale = {scale[0]};
                            OnnxModel.Node found = walkToScores(p.input(i), branchScale, depth + 1);
                            if (found != null) {
                                scale[0] = branchScale[0];
                                return found;
                            }
                        }
                    }
                    return null;
                case "Cast":
                case "Reshape":
                case "Transpose":
                case "Identity":
                    return walkToScores(p.input(0), scale, depth + 1);
                default:
                    return null;
            }
        }

        /**
         * Walks back from q or k to its projection and returns the projection's input width, or -1; scalar
         * {@code Mul}/{@code Div} met on the way (timm scales q before the score MatMul) go into {@code scale}.
         */
        private long walkToProjection(String tensor, double[] scale, int depth) {
            OnnxModel.Node p = graph.producers.get(tensor);
            if (p == null || depth > MAX_WALK) {
                return -1;
            }
            switch (p.opType()) {
                case "MatMul": {
                    OnnxTensor w = graph.constants.get(p.input(1));
                    return w != null && w.rank() == 2 ? w.dims()[0] : -1;
                }
                case "Gemm": {
                    OnnxTensor w = graph.constants.get(p.input(1));
                    if (w == null || w.rank() != 2) {
                        return -1;
                    }
                    return p.intAttribute("transB", 0) != 0 ? w.dims()[1] : w.dims()[0];
                }
                case "Add": {
                    boolean first = graph.isConstant(p.input(0));
                    boolean second = graph.isConstant(p.input(1));
                    return first == second ? -1 : walkToProjection(p.input(first ? 1 : 0), scale, depth + 1);
                }
                case "Div":
                case "Mul": {
                    int operand = scaleOperand(p);
                    if (operand < 0) {
                        return -1;
                    }
                    double c = graph.scalarFloat(p.input(1 - operand));
                    scale[0] = p.opType().equals("Div") ? scale[0] / c : scale[0] * c;
                    return walkToProjection(p.input(operand), scale, depth + 1);
                }
                default:
                    return LAYOUT_OPS.contains(p.opType()) ? walkToProjection(p.input(0), scale, depth + 1) : -1;
            }
        }

        /**
         * For {@code Mul(a, c)}/{@code Mul(c, a)}/{@code Div(a, c)} with a one-element float constant {@code c},
         * the index of {@code a}; else -1.
         */
        private int scaleOperand(OnnxModel.Node p) {
            if (p.inputs().size() != 2) {
                return -1;
            }
            if (!Double.isNaN(graph.scalarFloat(p.input(1))) && !graph.isConstant(p.input(0))) {
                return 0;
            }
            if (p.opType().equals("Mul") && !Double.isNaN(graph.scalarFloat(p.input(0)))
                    && !graph.isConstant(p.input(1))) {
                return 1;
            }
            return -1;
        }
    }
}
