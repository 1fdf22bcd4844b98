package org.sa2vp.io;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Reads a Python pickle (protocols 0 to 5) that holds data, and runs none of the code a pickle may name.
 *
 * <p>Python's own {@code pickle.load} calls any function the stream names, so a downloaded checkpoint or dataset
 * can execute anything. This reader is a small pickle machine of its own (neither DL4J nor ND4J reads pickles): the
 * value opcodes build Java values, and the only callables are those the caller allows by their Python name
 * ({@code numpy.dtype}, {@code collections.OrderedDict}, …), each a Java function building the value. A
 * {@code GLOBAL} naming anything else, an extension code, or a persistent id without a loader is refused in one line
 * naming what was found and where.
 *
 * <p>Values: {@code None} → {@code null}; {@code bool} → {@link Boolean}; {@code int} → {@link Long} (or
 * {@link BigInteger} beyond 64 bits); {@code float} → {@link Double}; {@code str} → {@link String}; {@code bytes}
 * and {@code bytearray} → {@link Bytes}; Python 2 {@code str} (opcodes {@code S}, {@code T}, {@code U}) →
 * {@link String} decoded as Latin-1, as {@code pickle.load(f, encoding='latin1')} does; {@code list} → a mutable
 * {@link List}; {@code tuple} → an unmodifiable {@link List}; {@code dict} → {@link LinkedHashMap} in the stream's
 * order; {@code set}/{@code frozenset} → {@link Set}. Not thread-safe; one instance may read many pickles.
 */
public final class RestrictedUnpickler {

    /** A Python callable a pickle may name: builds a value from its positional arguments ({@code REDUCE}, …). */
    @FunctionalInterface
    public interface PythonCallable {
        /**
         * @param arguments the positional arguments, in order
         * @return the value the call gives in Python
         * @throws IllegalArgumentException in one line when the arguments are not what a data file holds
         */
        Object call(List<Object> arguments);
    }

    /** A value whose Python class takes its state after construction ({@code BUILD}, i.e. {@code __setstate__}). */
    public interface Stateful {
        /**
         * @param state the pickled state
         * @throws IllegalArgumentException in one line when the state is not understood
         */
        void setState(Object state);
    }

    /** Python {@code bytes} or {@code bytearray}: compared by content, so it can be a dictionary key. */
    public record Bytes(byte[] value) {
        @Override
        public boolean equals(Object other) {
            return other instanceof Bytes b && Arrays.equals(value, b.value);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return "b'" + new String(value, StandardCharsets.ISO_8859_1) + "'";
        }
    }

    /**
     * What {@code GLOBAL} pushes: an allowed callable and its Python name. It reaches a caller's code only where the
     * pickle passes the callable itself as a value, as {@code torch.save} names a storage's type inside its
     * persistent ids ({@code torch.FloatStorage}), so the persistent loader can tell the type by {@link #name()}.
     *
     * @param name     the Python name, {@code "module.name"}
     * @param callable what calling it builds
     */
    public record Global(String name, PythonCallable callable) {
    }

    /** What {@code step} returns for every opcode but STOP (a pickle may hold {@code None}, so not null). */
    private static final Object NOT_DONE = new Object();

    private final Map<String, PythonCallable> allowed;
    private final Function<Object, Object> persistentLoad;

    private RestrictedUnpickler(Map<String, PythonCallable> allowed, Function<Object, Object> persistentLoad) {
        this.allowed = Map.copyOf(allowed);
        this.persistentLoad = persistentLoad;
    }

    /**
     * A reader that allows the callables of {@code allowed}, keyed by their Python name ({@code "module.name"}, e.g.
     * {@code "numpy.dtype"}), besides those through which Python pickles its own value types ({@link #BUILT_INS});
     * no persistent ids.
     */
    public static RestrictedUnpickler allowing(Map<String, PythonCallable> allowed) {
        Map<String, PythonCallable> all = new LinkedHashMap<>(BUILT_INS);
        all.putAll(allowed);
        return new RestrictedUnpickler(all, null);
    }

    /**
     * How Python pickles its own value types at the protocols that have no opcode for them, always allowed: sets and
     * frozensets before protocol 4, {@code bytes} and {@code bytearray} before protocol 3 or 5 (Python 2's module
     * {@code __builtin__} and Python 3's {@code builtins}), and {@code _codecs.encode(text, 'latin1')}, the form
     * Python 3 writes non-empty {@code bytes} in at protocols 0 to 2.
     */
    public static final Map<String, PythonCallable> BUILT_INS;

    static {
        Map<String, PythonCallable> builtIns = new LinkedHashMap<>();
        for (String module : List.of("__builtin__", "builtins")) {
            builtIns.put(module + ".set", arguments -> new LinkedHashSet<>(items(arguments, "set")));
            builtIns.put(module + ".frozenset", arguments -> Collections.unmodifiableSet(new LinkedHashSet<>(
                    items(arguments, "frozenset"))));
            builtIns.put(module + ".bytes", arguments -> bytesOf(arguments, "bytes"));
            builtIns.put(module + ".bytearray", arguments -> bytesOf(arguments, "bytearray"));
        }
        builtIns.put("_codecs.encode", arguments -> bytesOf(arguments, "encode"));
        BUILT_INS = Collections.unmodifiableMap(builtIns);
    }

    /** The items of {@code set(iterable)}: none, or one list or tuple. */
    private static List<?> items(List<Object> arguments, String what) {
        if (arguments.isEmpty()) {
            return List.of();
        }
        if (arguments.size() == 1 && arguments.get(0) instanceof List<?> list) {
            return list;
        }
        throw new IllegalArgumentException("takes one list, as pickle writes a " + what + ", found "
                + arguments.size() + " arguments");
    }

    /**
     * {@code bytes()}, {@code bytes(b)}, {@code bytearray(b)}, {@code bytearray(text, 'latin-1')} and
     * {@code _codecs.encode(text, 'latin1')}: the forms pickle writes, all Latin-1, which maps code points 0–255 to
     * the bytes of the same value.
     */
    private static Bytes bytesOf(List<Object> arguments, String what) {
        if (arguments.isEmpty()) {
            return new Bytes(new byte[0]);
        }
        if (arguments.size() == 1 && arguments.get(0) instanceof Bytes b) {
            return b;
        }
        if (arguments.size() == 2 && arguments.get(0) instanceof String text && arguments.get(1) instanceof String
                encoding && List.of("latin1", "latin-1", "iso-8859-1").contains(encoding.toLowerCase(
                Locale.ROOT)) && text.chars().allMatch(c -> c < 256)) {
            return new Bytes(text.getBytes(StandardCharsets.ISO_8859_1));
        }
        throw new IllegalArgumentException("is allowed only in the forms pickle writes for " + what + " (none, bytes, "
                + "or Latin-1 text with its encoding), found " + arguments.size() + " arguments");
    }

    /**
     * This reader, resolving persistent ids ({@code PERSID}, {@code BINPERSID}: how {@code torch.save} refers to
     * tensor storages kept outside the pickle) with {@code load}.
     */
    public RestrictedUnpickler withPersistentLoad(Function<Object, Object> load) {
        return new RestrictedUnpickler(allowed, load);
    }

    /**
     * The value the pickle in {@code bytes} holds.
     *
     * @param source names the pickle in messages (a file, or a file and its entry)
     * @throws IllegalArgumentException in one line, naming {@code source} and the byte offset, for a refused
     *                                  callable, an unknown or truncated opcode, or a malformed stream
     */
    public Object read(byte[] bytes, String source) {
        return read(ByteBuffer.wrap(bytes), source);
    }

    /**
     * The value of the pickle that starts at {@code in}'s position, which is left just after the pickle's
     * {@code STOP}: for files that hold several pickles in a row and data after them (the legacy {@code torch.save}
     * format). The buffer's byte order is not changed; messages give byte offsets from the buffer's start.
     *
     * @param source names the pickle in messages (a file, or a file and its entry)
     * @throws IllegalArgumentException in one line, as {@link #read(byte[], String)}
     */
    public Object read(ByteBuffer in, String source) {
        Machine machine = new Machine(in.duplicate(), source);
        Object value = machine.run();
        in.position(machine.in.position());
        return value;
    }

    /** One pass over one pickle: the stack, the mark stack and the memo. */
    private final class Machine {
        private final ByteBuffer in;
        private final String source;
        private final List<Object> stack = new ArrayList<>();
        private final List<Integer> marks = new ArrayList<>();
        private final Map<Long, Object> memo = new HashMap<>();
        private int opcodeAt;

        Machine(ByteBuffer in, String source) {
            this.in = in.order(ByteOrder.LITTLE_ENDIAN);
            this.source = source;
        }

        Object run() {
            while (true) {
                if (!in.hasRemaining()) {
                    throw fail("the pickle ends without STOP (truncated file?)");
                }
                opcodeAt = in.position();
                int op = in.get() & 0xff;
                try {
                    Object result = step(op);
                    if (result != NOT_DONE) {
                        return result;
                    }
                } catch (BufferUnderflowException e) {
                    throw fail("the opcode's argument is cut off (truncated file?)");
                }
            }
        }

        /** Runs one opcode; the pickled value after STOP, else {@link #NOT_DONE}. */
        private Object step(int op) {
            switch (op) {
                case 0x80 -> { // PROTO
                    int protocol = u8();
                    if (protocol > 5) {
                        throw fail("pickle protocol " + protocol + " is newer than the 5 this reader knows");
                    }
                }
                case 0x95 -> bytes(8); // FRAME: a length hint; the opcodes inside are read as they come
                case 0x2e -> { // STOP
                    if (stack.size() != 1 || !marks.isEmpty()) {
                        throw fail("STOP with " + stack.size() + " values and " + marks.size() + " marks on the "
                                + "stack, expected one value");
                    }
                    return stack.get(0);
                }
                case 0x28 -> marks.add(stack.size()); // MARK
                case 0x30 -> pop(); // POP
                case 0x31 -> popMark(); // POP_MARK
                case 0x32 -> push(peek()); // DUP
                case 0x4e -> push(null); // NONE
                case 0x88 -> push(Boolean.TRUE); // NEWTRUE
                case 0x89 -> push(Boolean.FALSE); // NEWFALSE
                case 0x49 -> push(parseIntLine(line())); // INT
                case 0x4a -> push((long) in.getInt()); // BININT
                case 0x4b -> push((long) u8()); // BININT1
                case 0x4d -> push((long) (in.getShort() & 0xffff)); // BININT2
                case 0x4c -> push(parseLongLine(line())); // LONG
                case 0x8a -> push(littleEndianInteger(bytes(u8()))); // LONG1
                case 0x8b -> push(littleEndianInteger(bytes(length(in.getInt())))); // LONG4
                case 0x46 -> push(parseFloatLine(line())); // FLOAT
                case 0x47 -> push(ByteBuffer.wrap(bytes(8)).getDouble()); // BINFLOAT (big-endian)
                case 0x53 -> push(latin1(unquote(line()))); // STRING (Python 2 repr)
                case 0x54 -> push(latin1(bytes(length(in.getInt())))); // BINSTRING
                case 0x55 -> push(latin1(bytes(u8()))); // SHORT_BINSTRING
                case 0x56 -> push(rawUnicodeEscape(line())); // UNICODE
                case 0x58 -> push(utf8(bytes(length(in.getInt())))); // BINUNICODE
                case 0x8c -> push(utf8(bytes(u8()))); // SHORT_BINUNICODE
                case 0x8d -> push(utf8(bytes(length(in.getLong())))); // BINUNICODE8
                case 0x42 -> push(new Bytes(bytes(length(in.getInt())))); // BINBYTES
                case 0x43 -> push(new Bytes(bytes(u8()))); // SHORT_BINBYTES
                case 0x8e, 0x96 -> push(new Bytes(bytes(length(in.getLong())))); // BINBYTES8, BYTEARRAY8
                case 0x97 -> throw fail("the pickle refers to an out-of-band buffer (NEXT_BUFFER), which is "
                        + "not in the file");
                case 0x98 -> { } // READONLY_BUFFER: read-only or not, the bytes are the same
                case 0x29 -> push(tuple(List.of())); // EMPTY_TUPLE
                case 0x74 -> push(tuple(popMark())); // TUPLE
                case 0x85 -> push(tuple(popN(1))); // TUPLE1
                case 0x86 -> push(tuple(popN(2))); // TUPLE2
                case 0x87 -> push(tuple(popN(3))); // TUPLE3
                case 0x5d -> push(new ArrayList<>()); // EMPTY_LIST
                case 0x6c -> push(new ArrayList<>(popMark())); // LIST
                case 0x61 -> { // APPEND
                    Object value = pop();
                    list(peek()).add(value);
                }
                case 0x65 -> { // APPENDS
                    List<Object> values = popMark();
                    list(peek()).addAll(values);
                }
                case 0x7d -> push(new LinkedHashMap<>()); // EMPTY_DICT
                case 0x64 -> { // DICT
                    Map<Object, Object> dict = new LinkedHashMap<>();
                    putPairs(dict, popMark());
                    push(dict);
                }
                case 0x73 -> { // SETITEM
                    Object value = pop();
                    Object key = pop();
                    dict(peek()).put(key, value);
                }
                case 0x75 -> { // SETITEMS
                    List<Object> pairs = popMark();
                    putPairs(dict(peek()), pairs);
                }
                case 0x8f -> push(new LinkedHashSet<>()); // EMPTY_SET
                case 0x90 -> { // ADDITEMS
                    List<Object> values = popMark();
                    set(peek()).addAll(values);
                }
                case 0x91 -> push(Collections.unmodifiableSet(new LinkedHashSet<>(popMark()))); // FROZENSET
                case 0x70 -> memo.put(parseMemoIndex(line()), peek()); // PUT
                case 0x71 -> memo.put((long) u8(), peek()); // BINPUT
                case 0x72 -> memo.put(Integer.toUnsignedLong(in.getInt()), peek()); // LONG_BINPUT
                case 0x94 -> memo.put((long) memo.size(), peek()); // MEMOIZE
                case 0x67 -> push(memo(parseMemoIndex(line()))); // GET
                case 0x68 -> push(memo(u8())); // BINGET
                case 0x6a -> push(memo(Integer.toUnsignedLong(in.getInt()))); // LONG_BINGET
                case 0x63 -> push(global(line(), line())); // GLOBAL
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw fail("STACK_GLOBAL needs two strings, found " + describe(module) + " and "
                                + describe(name));
                    }
                    push(global(m, n));
                }
                case 0x52 -> { // REDUCE
                    List<Object> arguments = asTuple(pop(), "REDUCE's arguments");
                    push(call(pop(), arguments));
                }
                case 0x81 -> { // NEWOBJ: cls.__new__(cls, *args)
                    List<Object> arguments = asTuple(pop(), "NEWOBJ's arguments");
                    push(call(pop(), arguments));
                }
                case 0x92 -> { // NEWOBJ_EX
                    Object keywords = pop();
                    List<Object> arguments = asTuple(pop(), "NEWOBJ_EX's arguments");
                    if (!(keywords instanceof Map<?, ?> k) || !k.isEmpty()) {
                        throw fail("NEWOBJ_EX with keyword arguments " + describe(keywords) + " is not data");
                    }
                    push(call(pop(), arguments));
                }
                case 0x69 -> { // INST: module, name, then the arguments since MARK
                    Global callable = global(line(), line());
                    push(call(callable, popMark()));
                }
                case 0x6f -> { // OBJ: MARK, class, arguments
                    List<Object> items = popMark();
                    if (items.isEmpty()) {
                        throw fail("OBJ without a class");
                    }
                    push(call(items.get(0), items.subList(1, items.size())));
                }
                case 0x62 -> { // BUILD
                    Object state = pop();
                    Object target = peek();
                    if (!(target instanceof Stateful stateful)) {
                        throw fail("BUILD (setting the state of) " + describe(target) + ", which takes none");
                    }
                    try {
                        stateful.setState(state);
                    } catch (IllegalArgumentException e) {
                        throw fail(e.getMessage());
                    }
                }
                case 0x50 -> push(persistent(latin1(line().getBytes(StandardCharsets.ISO_8859_1)))); // PERSID
                case 0x51 -> push(persistent(pop())); // BINPERSID
                case 0x82, 0x83, 0x84 -> throw fail("the pickle names a callable by extension code (EXT"
                        + (op == 0x82 ? 1 : op == 0x83 ? 2 : 4) + "), which is not data; refusing it");
                default -> throw fail(String.format("unknown pickle opcode 0x%02x (not a pickle, or a corrupt one)",
                        op));
            }
            return NOT_DONE;
        }

        private Global global(String module, String name) {
            String qualified = module + "." + name;
            PythonCallable callable = allowed.get(qualified);
            if (callable == null) {
                throw fail("the pickle calls " + qualified + ", which is not one of the data constructors this reader "
                        + "allows " + new TreeMap<>(allowed).keySet() + "; refusing to run it");
            }
            return new Global(qualified, callable);
        }

        private Object call(Object callable, List<Object> arguments) {
            if (!(callable instanceof Global global)) {
                throw fail("the pickle calls " + describe(callable) + ", which is not an allowed callable");
            }
            try {
                return global.callable().call(Collections.unmodifiableList(new ArrayList<>(arguments)));
            } catch (IllegalArgumentException e) {
                throw fail(global.name() + ": " + e.getMessage());
            }
        }

        private Object persistent(Object id) {
            if (persistentLoad == null) {
                throw fail("the pickle refers to an object outside it (persistent id " + describe(id) + "), and no "
                        + "loader for those was given");
            }
            try {
                return persistentLoad.apply(id);
            } catch (IllegalArgumentException e) {
                throw fail(e.getMessage());
            }
        }

        private void putPairs(Map<Object, Object> dict, List<Object> pairs) {
            if (pairs.size() % 2 != 0) {
                throw fail("a dictionary's items come in key-value pairs, found " + pairs.size() + " values");
            }
            for (int i = 0; i < pairs.size(); i += 2) {
                dict.put(pairs.get(i), pairs.get(i + 1));
            }
        }

        @SuppressWarnings("unchecked")
        private List<Object> list(Object value) {
            if (value instanceof ArrayList<?> list) {
                return (List<Object>) list;
            }
            throw fail("appending to " + describe(value) + ", which is not a list");
        }

        @SuppressWarnings("unchecked")
        private Map<Object, Object> dict(Object value) {
            if (value instanceof Map<?, ?> map) {
                return (Map<Object, Object>) map;
            }
            throw fail("setting an item of " + describe(value) + ", which is not a dictionary");
        }

        @SuppressWarnings("unchecked")
        private Set<Object> set(Object value) {
            if (value instanceof LinkedHashSet<?> set) {
                return (Set<Object>) set;
            }
            throw fail("adding to " + describe(value) + ", which is not a set");
        }

        @SuppressWarnings("unchecked")
        private List<Object> asTuple(Object value, String what) {
            if (value instanceof List<?> list) {
                return (List<Object>) list;
            }
            throw fail(what + " are " + describe(value) + ", expected a tuple");
        }

        private Object memo(long index) {
            if (!memo.containsKey(index)) {
                throw fail("memo entry " + index + " is read before it is written");
            }
            return memo.get(index);
        }

        private void push(Object value) {
            stack.add(value);
        }

        private Object pop() {
            int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
            if (stack.size() <= floor) {
                throw fail("the opcode needs a value, but the stack is empty");
            }
            return stack.remove(stack.size() - 1);
        }

        private Object peek() {
            int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
            if (stack.size() <= floor) {
                throw fail("the opcode needs a value, but the stack is empty");
            }
            return stack.get(stack.size() - 1);
        }

        private List<Object> popN(int n) {
            List<Object> values = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                values.add(0, pop());
            }
            return values;
        }

        private List<Object> popMark() {
            if (marks.isEmpty()) {
                throw fail("the opcode needs a MARK, but none is set");
            }
            int from = marks.remove(marks.size() - 1);
            List<Object> values = new ArrayList<>(stack.subList(from, stack.size()));
            stack.subList(from, stack.size()).clear();
            return values;
        }

        private int u8() {
            require(1);
            return in.get() & 0xff;
        }

        private byte[] bytes(int n) {
            require(n);
            byte[] out = new byte[n];
            in.get(out);
            return out;
        }

        private int length(long n) {
            if (n < 0 || n > in.remaining()) {
                throw fail("a value of " + n + " bytes, but " + in.remaining() + " remain (truncated file?)");
            }
            return (int) n;
        }

        private void require(int n) {
            if (n > in.remaining()) {
                throw fail("the opcode needs " + n + " more bytes, but " + in.remaining() + " remain (truncated file?)");
            }
        }

        /** The text up to the next newline (protocol 0 arguments), without it. */
        private String line() {
            int start = in.position();
            while (in.hasRemaining()) {
                if (in.get() == '\n') {
                    byte[] text = new byte[in.position() - 1 - start];
                    in.get(start, text);
                    return new String(text, StandardCharsets.ISO_8859_1);
                }
            }
            throw fail("a text argument without its newline (truncated file?)");
        }

        private Object parseIntLine(String text) {
            if (text.equals("01")) {
                return Boolean.TRUE;
            }
            if (text.equals("00")) {
                return Boolean.FALSE;
            }
            return parseLongLine(text);
        }

        private Object parseLongLine(String text) {
            String digits = text.endsWith("L") ? text.substring(0, text.length() - 1) : text;
            try {
                BigInteger value = new BigInteger(digits.strip());
                return value.bitLength() < 64 ? (Object) value.longValue() : value;
            } catch (NumberFormatException e) {
                throw fail("'" + text + "' is not an integer");
            }
        }

        private double parseFloatLine(String text) {
            try {
                return switch (text.strip()) {
                    case "inf" -> Double.POSITIVE_INFINITY;
                    case "-inf" -> Double.NEGATIVE_INFINITY;
                    case "nan" -> Double.NaN;
                    default -> Double.parseDouble(text.strip());
                };
            } catch (NumberFormatException e) {
                throw fail("'" + text + "' is not a float");
            }
        }

        private long parseMemoIndex(String text) {
            try {
                return Long.parseLong(text.strip());
            } catch (NumberFormatException e) {
                throw fail("'" + text + "' is not a memo index");
            }
        }

        /** A Python 2 byte-string literal ({@code 'abc'} or {@code "a\x00"}) as its bytes. */
        private byte[] unquote(String literal) {
            if (literal.length() < 2 || literal.charAt(0) != literal.charAt(literal.length() - 1)
                    || (literal.charAt(0) != '\'' && literal.charAt(0) != '"')) {
                throw fail("STRING argument " + literal + " is not a quoted literal");
            }
            String body = literal.substring(1, literal.length() - 1);
            ByteArrayOutputStream out = new ByteArrayOutputStream(body.length());
            for (int i = 0; i < body.length(); i++) {
                char c = body.charAt(i);
                if (c != '\\' || i + 1 == body.length()) {
                    out.write(c);
                    continue;
                }
                char e = body.charAt(++i);
                switch (e) {
                    case 'n' -> out.write('\n');
                    case 'r' -> out.write('\r');
                    case 't' -> out.write('\t');
                    case 'a' -> out.write(7);
                    case 'b' -> out.write(8);
                    case 'f' -> out.write(12);
                    case 'v' -> out.write(11);
                    case 'x' -> {
                        if (i + 2 >= body.length()) {
                            throw fail("STRING argument " + literal + " ends inside an escape");
                        }
                        out.write(Integer.parseInt(body.substring(i + 1, i + 3), 16));
                        i += 2;
                    }
                    default -> {
                        if (e >= '0' && e <= '7') {
                            int end = i;
                            while (end < body.length() && end < i + 3 && body.charAt(end) >= '0'
                                    && body.charAt(end) <= '7') {
                                end++;
                            }
                            out.write(Integer.parseInt(body.substring(i, end), 8));
                            i = end - 1;
                        } else {
                            out.write(e); // \\, \', \" and unknown escapes stand for the character
                        }
                    }
                }
            }
            return out.toByteArray();
        }

        /** Protocol 0 {@code UNICODE}: Latin-1 text with {@code \\uXXXX} and {@code \\UXXXXXXXX} escapes. */
        private String rawUnicodeEscape(String text) {
            StringBuilder out = new StringBuilder(text.length());
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c == '\\' && i + 1 < text.length() && (text.charAt(i + 1) == 'u' || text.charAt(i + 1) == 'U')) {
                    int digits = text.charAt(i + 1) == 'u' ? 4 : 8;
                    if (i + 2 + digits > text.length()) {
                        throw fail("UNICODE argument ends inside an escape");
                    }
                    out.appendCodePoint(Integer.parseInt(text.substring(i + 2, i + 2 + digits), 16));
                    i += 1 + digits;
                } else {
                    out.append(c);
                }
            }
            return out.toString();
        }

        private IllegalArgumentException fail(String what) {
            return new IllegalArgumentException(source + ": " + what + " (pickle byte " + opcodeAt + ")");
        }
    }

    private static List<Object> tuple(List<Object> values) {
        return Collections.unmodifiableList(new ArrayList<>(values));
    }

    /** Two's-complement little-endian bytes (LONG1, LONG4) as a Long, or a BigInteger beyond 64 bits. */
    private static Object littleEndianInteger(byte[] bytes) {
        if (bytes.length == 0) {
            return 0L;
        }
        byte[] bigEndian = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            bigEndian[i] = bytes[bytes.length - 1 - i];
        }
        BigInteger value = new BigInteger(bigEndian);
        return value.bitLength() < 64 ? (Object) value.longValue() : value;
    }

    private static String latin1(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    private static String utf8(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** A value as messages name it: its Python-ish type, and short values themselves. */
    public static String describe(Object value) {
        if (value == null) {
            return "None";
        }
        if (value instanceof String s) {
            return "'" + (s.length() > 40 ? s.substring(0, 40) + "…" : s) + "'";
        }
        if (value instanceof Long || value instanceof Boolean || value instanceof Double) {
            return value.toString();
        }
        if (value instanceof List<?> l) {
            return "a sequence of " + l.size();
        }
        if (value instanceof Map<?, ?> m) {
            return "a dictionary of " + m.size();
        }
        if (value instanceof Global g) {
            return g.name();
        }
        return "a " + value.getClass().getSimpleName();
    }
}
