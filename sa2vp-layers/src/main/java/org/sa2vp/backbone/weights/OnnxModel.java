package org.sa2vp.backbone.weights;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * An ONNX model file ({@code ModelProto}) read by a hand-written protobuf wire-format parser, so that weights can be
 * taken out of an {@code .onnx} export without protobuf-java or an ONNX runtime on the classpath.
 *
 * <p>Only what weight import needs is kept: the opset imports, and of the main graph its nodes (inputs, outputs,
 * name, op type, attributes), initializers, input/output names and the inputs' declared shapes. Tensor data is not
 * copied while parsing: the file is memory-mapped and each {@link OnnxTensor} keeps a view of its {@code raw_data},
 * so a 350 MB ViT-B/16 export parses in well under a second and every weight byte is copied once, into its
 * INDArray. Subgraphs (If/Loop
 * bodies), functions, sparse initializers and metadata are skipped.
 *
 * <p>Every problem is a one-line {@link CheckpointException} naming the file: a truncated file, a file that is not
 * a protobuf or not a ModelProto, and initializers that keep their data in external files (the ONNX layout for
 * models over 2 GB, which this reader does not follow).
 */
public final class OnnxModel {

    /** One {@code NodeProto}. */
    public record Node(String name, String opType, String domain, List<String> inputs, List<String> outputs,
                       Map<String, Attribute> attributes) {

        /** Input {@code i}, or {@code ""} when absent (ONNX marks skipped optional inputs with an empty name). */
        public String input(int i) {
            return i < inputs.size() ? inputs.get(i) : "";
        }

        public Optional<Attribute> attribute(String attributeName) {
            return Optional.ofNullable(attributes.get(attributeName));
        }

        /** An INT attribute, or {@code defaultValue} when the node does not set it (ONNX default attributes). */
        public long intAttribute(String attributeName, long defaultValue) {
            Attribute a = attributes.get(attributeName);
            return a == null ? defaultValue : a.i();
        }

        /** A FLOAT attribute, or {@code defaultValue} when the node does not set it. */
        public float floatAttribute(String attributeName, float defaultValue) {
            Attribute a = attributes.get(attributeName);
            return a == null ? defaultValue : a.f();
        }
    }

    /**
     * One {@code AttributeProto}. {@code type} is the ONNX {@code AttributeType} code (1 FLOAT, 2 INT, 3 STRING,
     * 4 TENSOR, 6 FLOATS, 7 INTS, ...); fields the attribute does not use are 0, empty or {@code null}.
     */
    public record Attribute(String name, int type, long i, float f, long[] ints, float[] floats, OnnxTensor t,
                            byte[] s) {
        public static final int FLOAT = 1;
        public static final int INT = 2;
        public static final int STRING = 3;
        public static final int TENSOR = 4;
        public static final int FLOATS = 6;
        public static final int INTS = 7;
    }

    /**
     * The main {@code GraphProto}: nodes in file (topological) order, initializers by name in file order.
     *
     * @param inputShapes the declared shape of each input that declares a tensor shape, by name: one entry per
     *                    dimension, its size, or -1 where it is symbolic or unknown (an exported batch axis)
     */
    public record Graph(String name, List<Node> nodes, Map<String, OnnxTensor> initializers, List<String> inputs,
                        List<String> outputs, Map<String, long[]> inputShapes) {
    }

    private static final String DEFAULT_DOMAIN = "";

    private final String source;
    private final long irVersion;
    private final String producerName;
    private final String producerVersion;
    private final Map<String, Long> opsetImports;
    private final Graph graph;

    private OnnxModel(String source, long irVersion, String producerName, String producerVersion,
                      Map<String, Long> opsetImports, Graph graph) {
        this.source = source;
        this.irVersion = irVersion;
        this.producerName = producerName;
        this.producerVersion = producerVersion;
        this.opsetImports = Collections.unmodifiableMap(opsetImports);
        this.graph = graph;
    }

    /** Maps and parses {@code file}; the file name is used in error messages and as {@link #source()}. */
    public static OnnxModel read(Path file) {
        String source = file.getFileName().toString();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size > Integer.MAX_VALUE) {
                throw new CheckpointException(source + ": " + size + " bytes is over the 2 GB protobuf limit; "
                        + "expected a single-file ONNX model");
            }
            MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, size);
            return parse(mapped, source);
        } catch (IOException e) {
            throw new CheckpointException(source + ": cannot read ONNX file: " + e.getMessage(), e);
        }
    }

    /** Parses a whole ModelProto held in {@code bytes} (position 0 to capacity). */
    public static OnnxModel parse(ByteBuffer bytes, String source) {
        ByteBuffer whole = bytes.duplicate().clear().order(ByteOrder.LITTLE_ENDIAN);
        ProtoReader in = new ProtoReader(whole, 0, whole.capacity(), source);
        long irVersion = 0;
        String producerName = "";
        String producerVersion = "";
        Map<String, Long> opsets = new LinkedHashMap<>();
        Graph graph = null;
        if (!in.hasMore()) {
            throw in.notOnnx("empty file");
        }
        boolean first = true;
        while (in.hasMore()) {
            int tag = in.readTag();
            if (first) {
                checkFirstModelField(in, tag);
                first = false;
            }
            switch (ProtoReader.fieldNumber(tag)) {
                case 1 -> {
                    in.expectWireType(tag, ProtoReader.VARINT, "ModelProto.ir_version");
                    irVersion = in.readVarint();
                }
                case 2 -> {
                    in.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "ModelProto.producer_name");
                    producerName = in.readString();
                }
                case 3 -> {
                    in.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "ModelProto.producer_version");
                    producerVersion = in.readString();
                }
                case 7 -> {
                    in.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "ModelProto.graph");
                    graph = parseGraph(in.readMessage(), source);
                }
                case 8 -> {
                    in.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "ModelProto.opset_import");
                    parseOpset(in.readMessage(), opsets);
                }
                default -> in.skip(ProtoReader.wireType(tag));
            }
        }
        if (graph == null || irVersion <= 0) {
            throw in.notOnnx(graph == null ? "no graph (ModelProto field 7)" : "no ir_version (ModelProto field 1)");
        }
        return new OnnxModel(source, irVersion, producerName, producerVersion, opsets, graph);
    }

    /**
     * Protobuf writers emit fields in field-number order, so a real ModelProto starts with one of its own fields
     * (in practice {@code ir_version}). Checking this first turns arbitrary files (text, zip/npz, safetensors)
     * into a clear "not an ONNX model" instead of a confusing error deep inside.
     */
    private static void checkFirstModelField(ProtoReader in, int tag) {
        int wire = ProtoReader.wireType(tag);
        boolean known = switch (ProtoReader.fieldNumber(tag)) {
            case 1, 5 -> wire == ProtoReader.VARINT;
            case 2, 3, 4, 6, 7, 8, 14, 20, 25 -> wire == ProtoReader.LENGTH_DELIMITED;
            default -> false;
        };
        if (!known) {
            throw in.notOnnx("first protobuf field " + ProtoReader.fieldNumber(tag) + " (wire type " + wire
                    + ") is not a ModelProto field");
        }
    }

    /** File name used in error messages. */
    public String source() {
        return source;
    }

    public long irVersion() {
        return irVersion;
    }

    /** E.g. "pytorch". */
    public String producerName() {
        return producerName;
    }

    /** E.g. "1.13.0". */
    public String producerVersion() {
        return producerVersion;
    }

    /** Opset version per operator domain; the standard domain is {@code ""}. */
    public Map<String, Long> opsetImports() {
        return opsetImports;
    }

    /** The version of the standard ONNX operator set ({@code ""} or {@code "ai.onnx"} domain). */
    public OptionalLong opsetVersion() {
        Long v = opsetImports.containsKey(DEFAULT_DOMAIN) ? opsetImports.get(DEFAULT_DOMAIN)
                : opsetImports.get("ai.onnx");
        return v == null ? OptionalLong.empty() : OptionalLong.of(v);
    }

    public Graph graph() {
        return graph;
    }

    /**
     * Every tensor whose value is known without running the model: the initializers and the outputs of
     * {@code Constant} nodes ({@code value}, {@code value_float(s)} or {@code value_int(s)}), by tensor name.
     */
    public Map<String, OnnxTensor> constants() {
        Map<String, OnnxTensor> constants = new LinkedHashMap<>(graph.initializers());
        for (Node node : graph.nodes()) {
            if (node.opType().equals("Constant") && node.outputs().size() == 1) {
                OnnxTensor value = constantValue(node);
                if (value != null) {
                    constants.put(node.outputs().get(0), value);
                }
            }
        }
        return constants;
    }

    private OnnxTensor constantValue(Node node) {
        String out = node.outputs().get(0);
        for (Attribute a : node.attributes().values()) {
            switch (a.name()) {
                case "value":
                    return a.t();
                case "value_float":
                    return OnnxTensor.ofFloats(source, out, new long[0], new float[] {a.f()});
                case "value_floats":
                    return OnnxTensor.ofFloats(source, out, new long[] {a.floats().length}, a.floats());
                case "value_int":
                    return OnnxTensor.ofLongs(source, out, new long[0], new long[] {a.i()});
                case "value_ints":
                    return OnnxTensor.ofLongs(source, out, new long[] {a.ints().length}, a.ints());
                default:
                    break;
            }
        }
        return null;
    }

    private static void parseOpset(ProtoReader in, Map<String, Long> opsets) {
        String domain = DEFAULT_DOMAIN;
        long version = 0;
        while (in.hasMore()) {
            int tag = in.readTag();
            switch (ProtoReader.fieldNumber(tag)) {
                case 1 -> {
                    in.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "OperatorSetIdProto.domain");
                    domain = in.readString();
                }
                case 2 -> {
                    in.expectWireType(tag, ProtoReader.VARINT, "OperatorSetIdProto.version");
                    version = in.readVarint();
                }
                default -> in.skip(ProtoReader.wireType(tag));
            }
        }
        opsets.put(domain, version);
    }

    private static Graph parseGraph(ProtoReader in, String source) {
        String name = "";
        List<Node> nodes = new ArrayList<>();
        Map<String, OnnxTensor> initializers = new LinkedHashMap<>();
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        Map<String, long[]> inputShapes = new LinkedHashMap<>();
        while (in.hasMore()) {
            int tag = in.readTag();
            switch (ProtoReader.fieldNumber(tag)) {
                case 1 -> {
                    in.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "GraphProto.node");
                    nodes.add(parseNode(in.readMessage(), source));
                }
                case 2 -> {
                    in.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "GraphProto.name");
                    name = in.readString();
                }
                case 5 -> {
                    in.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "GraphProto.initializer");
                    OnnxTensor t = parseTensor(in.readMessage(), source, true);
                    initializers.put(t.name(), t);
                }
                case 11 -> {
                    in.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "GraphProto.input");
                    ProtoReader valueInfo = in.readMessage();
                    String input = parseValueInfoName(valueInfo.copy());
                    inputs.add(input);
                    parseValueInfoShape(valueInfo).ifPresent(shape -> inputShapes.put(input, shape));
                }
                case 12 -> {
                    in.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "GraphProto.output");
                    outputs.add(parseValueInfoName(in.readMessage()));
                }
                default -> in.skip(ProtoReader.wireType(tag));
            }
        }
        return new Graph(name, Collections.unmodifiableList(nodes), Collections.unmodifiableMap(initializers),
                List.copyOf(inputs), List.copyOf(outputs), Collections.unmodifiableMap(inputShapes));
    }

    /**
     * The tensor shape a {@code ValueInfoProto} declares ({@code type} 2 → {@code TypeProto.tensor_type} 1 →
     * {@code shape} 2 → {@code dim} 1: {@code dim_value} 1 or {@code dim_param} 2), -1 for a dimension without a
     * value; empty when it declares none.
     */
    private static Optional<long[]> parseValueInfoShape(ProtoReader valueInfo) {
        ProtoReader shape = null;
        for (ProtoReader type : fields(valueInfo, 2, "ValueInfoProto.type")) {
            for (ProtoReader tensorType : fields(type, 1, "TypeProto.tensor_type")) {
                for (ProtoReader s : fields(tensorType, 2, "TypeProto.Tensor.shape")) {
                    shape = s;
                }
            }
        }
        if (shape == null) {
            return Optional.empty();
        }
        List<Long> dims = new ArrayList<>();
        for (ProtoReader dim : fields(shape, 1, "TensorShapeProto.dim")) {
            long size = -1;
            while (dim.hasMore()) {
                int tag = dim.readTag();
                if (ProtoReader.fieldNumber(tag) == 1 && ProtoReader.wireType(tag) == ProtoReader.VARINT) {
                    size = dim.readVarint();
                } else {
                    dim.skip(ProtoReader.wireType(tag));
                }
            }
            dims.add(size);
        }
        return Optional.of(dims.stream().mapToLong(Long::longValue).toArray());
    }

    /** The embedded messages of field {@code field} in {@code in}, read to its end. */
    private static List<ProtoReader> fields(ProtoReader in, int field, String what) {
        List<ProtoReader> found = new ArrayList<>();
        while (in.hasMore()) {
            int tag = in.readTag();
            if (ProtoReader.fieldNumber(tag) == field) {
                in.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, what);
                found.add(in.readMessage());
            } else {
                in.skip(ProtoReader.wireType(tag));
            }
        }
        return found;
    }

    private static String parseValueInfoName(ProtoReader in) {
        String name = "";
        while (in.hasMore()) {
            int tag = in.readTag();
            if (ProtoReader.fieldNumber(tag) == 1) {
                in.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "ValueInfoProto.name");
                name = in.readString();
            } else {
                in.skip(ProtoReader.wireType(tag));
            }
        }
        return name;
    }

    private static Node parseNode(ProtoReader in, String source) {
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        String name = "";
        String opType = "";
        String domain = DEFAULT_DOMAIN;
        Map<String, Attribute> attributes = new LinkedHashMap<>();
        while (in.hasMore()) {
            int tag = in.readTag();
            int field = ProtoReader.fieldNumber(tag);
            if (field == 1 || field == 2 || field == 3 || field == 4 || field == 7) {
                in.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "NodeProto string field");
                String value = in.readString();
                switch (field) {
                    case 1 -> inputs.add(value);
                    case 2 -> outputs.add(value);
                    case 3 -> name = value;
                    case 4 -> opType = value;
                    default -> domain = value;
                }
            } else if (field == 5) {
                in.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "NodeProto.attribute");
                Attribute a = parseAttribute(in.readMessage(), source);
                attributes.put(a.name(), a);
            } else {
                in.skip(ProtoReader.wireType(tag));
            }
        }
        return new Node(name, opType, domain, List.copyOf(inputs), List.copyOf(outputs),
                Collections.unmodifiableMap(attributes));
    }

    private static Attribute parseAttribute(ProtoReader in, String source) {
        String name = "";
        int type = 0;
        long i = 0;
        float f = 0;
        LongList ints = new LongList();
        FloatList floats = new FloatList();
        OnnxTensor t = null;
        byte[] s = null;
        while (in.hasMore()) {
            int tag = in.readTag();
            switch (ProtoReader.fieldNumber(tag)) {
                case 1 -> {
                    in.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "AttributeProto.name");
                    name = in.readString();
                }
                case 2 -> {
                    in.expectWireType(tag, ProtoReader.FIXED32, "AttributeProto.f");
                    f = in.readFixed32AsFloat();
                }
                case 3 -> {
                    in.expectWireType(tag, ProtoReader.VARINT, "AttributeProto.i");
                    i = in.readVarint();
                }
                case 4 -> {
                    in.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "AttributeProto.s");
                    ByteBuffer view = in.readBytesView();
                    s = new byte[view.remaining()];
                    view.get(s);
                }
                case 5 -> {
                    in.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "AttributeProto.t");
                    t = parseTensor(in.readMessage(), source, false);
                }
                case 7 -> readFloats(in, tag, floats);
                case 8 -> readVarints(in, tag, ints);
                case 20 -> {
                    in.expectWireType(tag, ProtoReader.VARINT, "AttributeProto.type");
                    type = (int) in.readVarint();
                }
                default -> in.skip(ProtoReader.wireType(tag));
            }
        }
        return new Attribute(name, type, i, f, ints.toArray(), floats.toArray(), t, s == null ? new byte[0] : s);
    }

    /**
     * Parses a TensorProto. An initializer ({@code isInitializer}) whose data lives in an external file is refused
     * here, while parsing, so that the error names the first such tensor.
     */
    private static OnnxTensor parseTensor(ProtoReader in, String source, boolean isInitializer) {
        LongList dims = new LongList();
        long dataType = 0;
        String name = "";
        ByteBuffer raw = null;
        ByteBuffer packedFixed = null;
        FloatList floats = new FloatList();
        DoubleList doubles = new DoubleList();
        LongList int32s = new LongList();
        LongList int64s = new LongList();
        long dataLocation = 0;
        String externalLocation = null;
        int start = in.position();
        while (in.hasMore()) {
            int tag = in.readTag();
            switch (ProtoReader.fieldNumber(tag)) {
                case 1 -> readVarints(in, tag, dims);
                case 2 -> {
                    in.expectWireType(tag, ProtoReader.VARINT, "TensorProto.data_type");
                    dataType = in.readVarint();
                }
                case 4 -> {
                    if (ProtoReader.wireType(tag) == ProtoReader.LENGTH_DELIMITED) {
                        packedFixed = in.readBytesView();
                    } else {
                        readFloats(in, tag, floats);
                    }
                }
                case 5 -> readVarints(in, tag, int32s);
                case 7 -> readVarints(in, tag, int64s);
                case 8 -> {
                    in.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "TensorProto.name");
                    name = in.readString();
                }
                case 9 -> {
                    in.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "TensorProto.raw_data");
                    raw = in.readBytesView();
                }
                case 10 -> {
                    if (ProtoReader.wireType(tag) == ProtoReader.LENGTH_DELIMITED) {
                        packedFixed = in.readBytesView();
                    } else {
                        in.expectWireType(tag, ProtoReader.FIXED64, "TensorProto.double_data");
                        doubles.add(in.readFixed64AsDouble());
                    }
                }
                case 13 -> {
                    in.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "TensorProto.external_data");
                    String[] entry = parseStringEntry(in.readMessage());
                    if (entry[0].equals("location")) {
                        externalLocation = entry[1];
                    }
                }
                case 14 -> {
                    in.expectWireType(tag, ProtoReader.VARINT, "TensorProto.data_location");
                    dataLocation = in.readVarint();
                }
                default -> in.skip(ProtoReader.wireType(tag));
            }
        }
        if (isInitializer && (dataLocation == 1 || externalLocation != null)) {
            throw new CheckpointException(source + ": initializer '" + name + "' keeps its data in external file '"
                    + (externalLocation == null ? "?" : externalLocation) + "'; external-data ONNX models are not "
                    + "supported, expected all weights inside the .onnx file (save without save_as_external_data)");
        }
        OnnxTensor.ElementType type = OnnxTensor.ElementType.ofCode(dataType);
        if (type == null || type == OnnxTensor.ElementType.UNDEFINED) {
            throw new CheckpointException(source + ": tensor '" + name + "' at byte " + start
                    + " has unknown data_type " + dataType);
        }
        long[] shape = dims.toArray();
        for (long d : shape) {
            if (d < 0) {
                throw new CheckpointException(source + ": tensor '" + name + "' has negative dimension in "
                        + Arrays.toString(shape));
            }
        }
        if (raw == null && packedFixed != null
                && (type == OnnxTensor.ElementType.FLOAT || type == OnnxTensor.ElementType.DOUBLE)) {
            raw = packedFixed;
        }
        long[] integers = type == OnnxTensor.ElementType.INT64 ? int64s.toArray()
                : int32s.size() > 0 ? int32s.toArray() : null;
        return new OnnxTensor(source, name, shape, type, raw, floats.size() > 0 ? floats.toArray() : null,
                doubles.size() > 0 ? doubles.toArray() : null, integers);
    }

    private static String[] parseStringEntry(ProtoReader in) {
        String key = "";
        String value = "";
        while (in.hasMore()) {
            int tag = in.readTag();
            switch (ProtoReader.fieldNumber(tag)) {
                case 1 -> key = in.readString();
                case 2 -> value = in.readString();
                default -> in.skip(ProtoReader.wireType(tag));
            }
        }
        return new String[] {key, value};
    }

    /** A repeated varint field, packed (one length-delimited run) or not (one tag per value). */
    private static void readVarints(ProtoReader in, int tag, LongList into) {
        if (ProtoReader.wireType(tag) == ProtoReader.LENGTH_DELIMITED) {
            ProtoReader packed = in.readMessage();
            while (packed.hasMore()) {
                into.add(packed.readVarint());
            }
        } else {
            in.expectWireType(tag, ProtoReader.VARINT, "repeated integer field");
            into.add(in.readVarint());
        }
    }

    /** A repeated float field, packed or not. */
    private static void readFloats(ProtoReader in, int tag, FloatList into) {
        if (ProtoReader.wireType(tag) == ProtoReader.LENGTH_DELIMITED) {
            ByteBuffer packed = in.readBytesView();
            if (packed.remaining() % 4 != 0) {
                throw in.notOnnx("packed float field of " + packed.remaining() + " bytes near byte " + in.position());
            }
            while (packed.hasRemaining()) {
                into.add(packed.getFloat());
            }
        } else {
            in.expectWireType(tag, ProtoReader.FIXED32, "repeated float field");
            into.add(in.readFixed32AsFloat());
        }
    }

    /** Growable long[] (avoids boxing for dims and integer data). */
    private static final class LongList {
        private long[] values = new long[8];
        private int size;

        void add(long v) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }

        int size() {
            return size;
        }

        long[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }

    /** Growable float[]. */
    private static final class FloatList {
        private float[] values = new float[8];
        private int size;

        void add(float v) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }

        int size() {
            return size;
        }

        float[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }

    /** Growable double[]. */
    private static final class DoubleList {
        private double[] values = new double[8];
        private int size;

        void add(double v) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }

        int size() {
            return size;
        }

        double[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }
}
