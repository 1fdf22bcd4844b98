package org.sa2vp.backbone.weights;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sa2vp.io.RestrictedUnpickler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

import static org.sa2vp.io.RestrictedUnpickler.describe;

/**
 * Reads PyTorch checkpoints written by {@code torch.save} ({@code .pth}, {@code .pt}, {@code .bin}) holding a state
 * dict, directly or inside a dictionary ({@code {'model': state_dict, 'epoch': 3}}), and runs none of the pickled
 * code: the pickle goes through {@link RestrictedUnpickler}, which builds only the few values a state dict is made of
 * ({@link #ALLOWED}) and refuses anything else (a module class, {@code os.system}, …) in one line naming the file.
 * DL4J and ND4J read no PyTorch files.
 *
 * <p>Both containers: the zip form (the default since torch 1.6; {@code <root>/data.pkl}, each storage's raw bytes in
 * {@code <root>/data/<key>}, the byte order in {@code <root>/byteorder} where torch 2 writes it, little-endian before)
 * and the legacy form ({@code _use_new_zipfile_serialization=False}: pickles of the magic number, the protocol
 * version, the system information, the object and the list of storage keys, then per key an 8-byte element count
 * and the little-endian raw bytes). Tensors honour their storage offset and strides (views sharing a storage,
 * transposes); float32, float16, bfloat16, float64 and the integer and bool types become float32 C-order arrays, as
 * {@link NpzReader} and {@link SafetensorsReader} give them. Only the tensors of the chosen state dict are read
 * (an optimizer's state in the same file is not).
 *
 * <p>The state dict is found as timm's {@code load_checkpoint} finds it: under the first of {@link #STATE_DICT_KEYS}
 * that holds a dictionary of tensors, else the top-level dictionary; a {@code module.} prefix (DataParallel) is
 * removed from each key that has it. Which one was used is logged.
 */
public final class PthReader {

    private static final Logger log = LoggerFactory.getLogger(PthReader.class);

    /**
     * Where a checkpoint may keep its state dict, in the order tried: timm's (the EMA weights first, as its
     * {@code load_checkpoint} does by default), then names other training code uses.
     */
    public static final List<String> STATE_DICT_KEYS = List.of("state_dict_ema", "model_ema", "state_dict", "model",
            "model_state", "module");

    private static final String DATA_PARALLEL_PREFIX = "module.";

    /** A storage type as torch names it in persistent ids, and how {@code NpzReader.toFloats} reads its elements. */
    private enum StorageType {
        FLOAT("FloatStorage", 'f', 4), HALF("HalfStorage", 'f', 2), BFLOAT16("BFloat16Storage", 'B', 2),
        DOUBLE("DoubleStorage", 'f', 8), LONG("LongStorage", 'i', 8), INT("IntStorage", 'i', 4),
        SHORT("ShortStorage", 'i', 2), CHAR("CharStorage", 'i', 1), BYTE("ByteStorage", 'u', 1),
        BOOL("BoolStorage", 'b', 1);

        final String pythonName;
        final char kind;
        final int itemSize;

        StorageType(String name, char kind, int itemSize) {
            this.pythonName = "torch." + name;
            this.kind = kind;
            this.itemSize = itemSize;
        }

        static StorageType of(Object marker) {
            if (marker instanceof RestrictedUnpickler.Global global) {
                for (StorageType type : values()) {
                    if (type.pythonName.equals(global.name())) {
                        return type;
                    }
                }
            }
            throw new IllegalArgumentException("a storage's type is one of torch's storage classes, found "
                    + describe(marker));
        }
    }

    /**
     * One storage of the file: its elements' type and count, and its raw bytes once read ({@code data}: the zip
     * form reads an entry when a tensor of the state dict first needs it; the legacy form slices the file).
     */
    private static final class Storage {
        final String key;
        final StorageType type;
        final long elements;
        ByteBuffer data;

        Storage(String key, StorageType type, long elements) {
            this.key = key;
            this.type = type;
            this.elements = elements;
        }

        @Override
        public String toString() {
            return "storage '" + key + "' (" + type.pythonName.substring("torch.".length()) + " of " + elements
                    + " elements)";
        }
    }

    /** What {@code _rebuild_tensor_v2} gives: a view of a storage, read only when its state dict is chosen. */
    private record TensorView(Storage storage, long offset, long[] size, long[] stride) {
        long count() {
            return Arrays.stream(size).reduce(1, (a, b) -> a * b);
        }

        boolean contiguous() {
            long expected = 1;
            for (int d = size.length - 1; d >= 0; d--) {
                if (size[d] != 1 && stride[d] != expected) {
                    return false;
                }
                expected *= size[d];
            }
            return true;
        }
    }

    /**
     * {@code collections.OrderedDict}: a dictionary whose attributes ({@code _metadata}, set by {@code BUILD} on a
     * {@code state_dict()}) are kept apart from its entries.
     */
    private static final class OrderedDict extends LinkedHashMap<Object, Object>
            implements RestrictedUnpickler.Stateful {
        @Override
        public void setState(Object state) {
            if (!(state instanceof Map<?, ?>)) {
                throw new IllegalArgumentException("an OrderedDict's state is a dictionary of attributes, found "
                        + describe(state));
            }
        }
    }

    /** The callables a state dict needs, by Python name: what torch 1.13's {@code torch.save} writes for one. */
    public static final Map<String, RestrictedUnpickler.PythonCallable> ALLOWED;

    static {
        Map<String, RestrictedUnpickler.PythonCallable> allowed = new LinkedHashMap<>();
        allowed.put("collections.OrderedDict", PthReader::orderedDict);
        allowed.put("torch._utils._rebuild_tensor_v2", PthReader::rebuildTensor);
        // (data, requires_grad, backward_hooks[, state]): a Parameter is its tensor here.
        allowed.put("torch._utils._rebuild_parameter", arguments -> parameter(arguments, 3));
        allowed.put("torch._utils._rebuild_parameter_with_state", arguments -> parameter(arguments, 4));
        for (StorageType type : StorageType.values()) {
            allowed.put(type.pythonName, arguments -> {
                throw new IllegalArgumentException("is only a storage type named in persistent ids, never called");
            });
        }
        ALLOWED = Map.copyOf(allowed);
    }

    private PthReader() {
    }

    /**
     * The state dict of a {@code torch.save} file (either container, detected from the bytes).
     *
     * @throws CheckpointException in one line naming the file (and the zip entry): a refused callable, a truncated or
     *                             incomplete file, a tensor outside its storage, or no state dict in the file
     */
    public static StateDict read(Path file) {
        if (CheckpointFormat.detect(file) != CheckpointFormat.PTH) {
            throw new CheckpointException(file + ": not a torch.save checkpoint (neither a zip holding "
                    + "<root>/data.pkl nor a pickle starting with torch's magic number)");
        }
        boolean zip = isZip(file);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return zip ? readZip(file) : readLegacy(file, channel);
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /**
     * The names of the state dict {@link #read} would return (the {@code module.} prefix removed), without reading
     * any tensor's bytes where the file allows: the zip form keeps the names in its pickle apart from the storages;
     * the legacy form is read whole.
     *
     * @throws CheckpointException as {@link #read}
     */
    public static List<String> keys(Path file) {
        if (CheckpointFormat.detect(file) != CheckpointFormat.PTH || !isZip(file)) {
            return List.copyOf(read(file).keys());
        }
        try (ZipFile zip = openZip(file)) {
            return chooseInZip(zip, torchRoot(zip, file), file, new LinkedHashMap<>()).tensors().keySet().stream()
                    .map(PthReader::withoutDataParallelPrefix).toList();
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** Whether {@code file} starts as a zip archive does ({@code PK}): torch.save's zip form, not the legacy one. */
    private static boolean isZip(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(2);
            channel.read(head, 0);
            return head.get(0) == 'P' && head.get(1) == 'K';
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** {@code key} without DataParallel's {@code module.} prefix, where it has one. */
    private static String withoutDataParallelPrefix(String key) {
        return key.startsWith(DATA_PARALLEL_PREFIX) ? key.substring(DATA_PARALLEL_PREFIX.length()) : key;
    }

    // ---- the zip form ----------------------------------------------------------------------------------------------

    private static ZipFile openZip(Path file) throws IOException {
        try {
            return new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw new CheckpointException(file + ": not a readable zip archive (" + e.getMessage() + "); the "
                    + "torch.save file may be truncated", e);
        }
    }

    /** The folder all of a torch.save zip's entries lie in ({@code <root>/}, ending in '/'). */
    private static String torchRoot(ZipFile zip, Path file) {
        return zip.stream().map(ZipEntry::getName).filter(CheckpointFormat::isTorchPickle).findFirst()
                .map(n -> n.substring(0, n.length() - "data.pkl".length())).orElseThrow(() ->
                        new CheckpointException(file + ": a zip archive without <root>/data.pkl, so not a "
                                + "torch.save checkpoint"));
    }

    /** The state dict {@code <root>/data.pkl} holds, its storages listed in {@code storages} but not read. */
    private static Chosen chooseInZip(ZipFile zip, String root, Path file, Map<String, Storage> storages) {
        Object value = unpickle(readEntry(zip, zip.getEntry(root + "data.pkl"), file), file + " (" + root
                + "data.pkl)", id -> zipStorage(id, zip, root, storages));
        return choose(value, file);
    }

    private static StateDict readZip(Path file) throws IOException {
        try (ZipFile zip = openZip(file)) {
            String root = torchRoot(zip, file);
            ByteOrder order = byteOrder(zip, root, file);
            Chosen chosen = chooseInZip(zip, root, file, new LinkedHashMap<>());
            return chosen.read(file, storage -> {
                if (storage.data == null) {
                    ZipEntry entry = zip.getEntry(root + "data/" + storage.key);
                    storage.data = ByteBuffer.wrap(readEntry(zip, entry, file)).order(order);
                }
                return storage.data;
            });
        }
    }

    /** {@code <root>/byteorder} (torch 2): "little" or "big"; absent (torch 1.x): little-endian. */
    private static ByteOrder byteOrder(ZipFile zip, String root, Path file) throws IOException {
        ZipEntry entry = zip.getEntry(root + "byteorder");
        if (entry == null) {
            return ByteOrder.LITTLE_ENDIAN;
        }
        String text = new String(readEntry(zip, entry, file), StandardCharsets.US_ASCII).strip();
        return switch (text) {
            case "little" -> ByteOrder.LITTLE_ENDIAN;
            case "big" -> ByteOrder.BIG_ENDIAN;
            default -> throw new CheckpointException(file + ": entry '" + entry.getName() + "' says '" + text
                    + "', expected 'little' or 'big'");
        };
    }

    private static byte[] readEntry(ZipFile zip, ZipEntry entry, Path file) {
        if (entry.getSize() > Integer.MAX_VALUE - 8) {
            throw new CheckpointException(file + ": entry '" + entry.getName() + "' holds " + entry.getSize()
                    + " bytes, more than one Java array can hold");
        }
        try (InputStream in = zip.getInputStream(entry)) {
            return in.readAllBytes();
        } catch (ZipException | EOFException e) {
            throw new CheckpointException(file + ": entry '" + entry.getName() + "' is truncated or corrupt ("
                    + e.getMessage() + "); the file may be incomplete");
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read entry '" + entry.getName() + "' (" + e.getMessage()
                    + ")", e);
        }
    }

    /** A zip-form persistent id: {@code ('storage', type, key, location, elements)}; checked against its entry. */
    private static Storage zipStorage(Object id, ZipFile zip, String root, Map<String, Storage> storages) {
        Storage storage = storage(id, 5, storages);
        String name = root + "data/" + storage.key;
        ZipEntry entry = zip.getEntry(name);
        if (entry == null) {
            throw new IllegalArgumentException(storage + " has no entry '" + name + "' in the archive; the file is "
                    + "incomplete");
        }
        long bytes = storage.elements * storage.type.itemSize;
        if (entry.getSize() != bytes) {
            throw new IllegalArgumentException("entry '" + name + "' holds " + entry.getSize() + " bytes, but "
                    + storage + " needs " + bytes);
        }
        return storage;
    }

    // ---- the legacy form -------------------------------------------------------------------------------------------

    private static StateDict readLegacy(Path file, FileChannel channel) throws IOException {
        long size = channel.size();
        if (size > Integer.MAX_VALUE) {
            throw new CheckpointException(file + ": a legacy torch.save file of " + size + " bytes; this reader "
                    + "maps it whole, up to 2 GB (re-save it with torch.save's default zip form)");
        }
        // The bytes the pickles hold and the storages; torch writes both little-endian whatever the machine.
        ByteBuffer in = channel.map(FileChannel.MapMode.READ_ONLY, 0, size).order(ByteOrder.LITTLE_ENDIAN);
        String source = file.toString();
        RestrictedUnpickler plain = RestrictedUnpickler.allowing(Map.of());
        Object magic = unpickle(plain, in, source);
        Object protocol = unpickle(plain, in, source);
        if (!CheckpointFormat.TORCH_MAGIC.equals(magic) || !Long.valueOf(1001).equals(protocol)) {
            throw new CheckpointException(file + ": starts with " + magic + " and protocol " + protocol
                    + ", expected torch's magic number and protocol 1001");
        }
        unpickle(plain, in, source); // system information: byte order (always little, see above) and C type sizes
        Map<String, Storage> storages = new LinkedHashMap<>();
        Object value = unpickle(RestrictedUnpickler.allowing(ALLOWED).withPersistentLoad(id -> storage(id, 6,
                storages)), in, source);
        int keysAt = in.position();
        Object keys = unpickle(plain, in, source);
        if (!(keys instanceof List<?> list) || list.size() != storages.size() || !storages.keySet().containsAll(list)) {
            throw new CheckpointException(file + ": the storage list at byte " + keysAt + " is " + describe(keys)
                    + ", expected the " + storages.size() + " storage keys the pickle names");
        }
        for (Object key : list) {
            Storage storage = storages.get(key);
            long bytes = storage.elements * storage.type.itemSize;
            int at = in.position();
            if (in.remaining() < 8 + bytes) {
                throw new CheckpointException(file + ": " + storage + " needs " + (8 + bytes) + " bytes from byte "
                        + at + ", but the file ends at byte " + size + " (truncated file?)");
            }
            long count = in.getLong();
            if (count != storage.elements) {
                throw new CheckpointException(file + ": " + storage + " is stored at byte " + at + " with " + count
                        + " elements");
            }
            storage.data = in.slice(in.position(), (int) bytes).order(ByteOrder.LITTLE_ENDIAN);
            in.position(in.position() + (int) bytes);
        }
        return choose(value, file).read(file, storage -> storage.data);
    }

    // ---- the pickle's values ---------------------------------------------------------------------------------------

    private static Object unpickle(byte[] pickle, String source, Function<Object, Object> persistentLoad) {
        return unpickle(RestrictedUnpickler.allowing(ALLOWED).withPersistentLoad(persistentLoad),
                ByteBuffer.wrap(pickle), source);
    }

    private static Object unpickle(RestrictedUnpickler unpickler, ByteBuffer in, String source) {
        try {
            return unpickler.read(in, source);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(e.getMessage(), e);
        }
    }

    /**
     * A persistent id, {@code ('storage', type, key, location, elements)}, plus the legacy form's
     * {@code view_metadata}, which only storage views of old torch versions set; one {@link Storage} per key.
     */
    private static Storage storage(Object id, int fields, Map<String, Storage> storages) {
        if (!(id instanceof List<?> tuple) || tuple.size() != fields || !"storage".equals(tuple.get(0))
                || !(tuple.get(2) instanceof String key) || !(tuple.get(4) instanceof Long elements) || elements < 0) {
            throw new IllegalArgumentException("a persistent id is ('storage', type, key, location, elements"
                    + (fields == 6 ? ", view" : "") + "), found " + describe(id));
        }
        if (fields == 6 && tuple.get(5) != null) {
            throw new IllegalArgumentException("storage '" + key + "' is a view of another storage, which only old "
                    + "torch versions write; re-save the file with a current torch");
        }
        StorageType type = StorageType.of(tuple.get(1));
        Storage storage = storages.computeIfAbsent(key, k -> new Storage(k, type, elements));
        if (storage.type != type || storage.elements != elements) {
            throw new IllegalArgumentException("storage '" + key + "' is named both as " + storage + " and as "
                    + type.pythonName + " of " + elements + " elements");
        }
        return storage;
    }

    private static Object orderedDict(List<Object> arguments) {
        OrderedDict dict = new OrderedDict();
        if (arguments.size() == 1 && arguments.get(0) instanceof List<?> items) {
            // Python 2 pickles an OrderedDict as OrderedDict([[key, value], ...]).
            for (Object item : items) {
                if (!(item instanceof List<?> pair) || pair.size() != 2) {
                    throw new IllegalArgumentException("takes [key, value] pairs, found " + describe(item));
                }
                dict.put(pair.get(0), pair.get(1));
            }
        } else if (!arguments.isEmpty()) {
            throw new IllegalArgumentException("takes nothing or a list of pairs, found " + arguments.size()
                    + " arguments");
        }
        return dict;
    }

    /** {@code _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, backward_hooks[, metadata])}. */
    private static Object rebuildTensor(List<Object> arguments) {
        if ((arguments.size() != 6 && arguments.size() != 7) || !(arguments.get(0) instanceof Storage storage)
                || !(arguments.get(1) instanceof Long offset)) {
            throw new IllegalArgumentException("takes (storage, offset, size, stride, requires_grad, backward_hooks"
                    + "[, metadata]), found " + arguments.size() + " arguments starting with "
                    + (arguments.isEmpty() ? "none" : describe(arguments.get(0))));
        }
        long[] size = longs(arguments.get(2), "size");
        long[] stride = longs(arguments.get(3), "stride");
        TensorView view = new TensorView(storage, offset, size, stride);
        long last = offset;
        for (int d = 0; d < Math.min(size.length, stride.length); d++) {
            last += (size[d] - 1) * stride[d];
        }
        if (size.length != stride.length || offset < 0 || (view.count() > 0 && last >= storage.elements)) {
            throw new IllegalArgumentException("a tensor of size " + Arrays.toString(size) + ", stride "
                    + Arrays.toString(stride) + " at offset " + offset + " does not fit in " + storage);
        }
        return view;
    }

    private static Object parameter(List<Object> arguments, int count) {
        if (arguments.size() != count || !(arguments.get(0) instanceof TensorView tensor)) {
            throw new IllegalArgumentException("takes a tensor and " + (count - 1) + " more arguments, found "
                    + arguments.size() + " arguments");
        }
        return tensor;
    }

    private static long[] longs(Object value, String what) {
        if (value instanceof List<?> list && list.stream().allMatch(v -> v instanceof Long l && l >= 0)) {
            return list.stream().mapToLong(v -> (Long) v).toArray();
        }
        throw new IllegalArgumentException("a tensor's " + what + " is a tuple of sizes, found " + describe(value));
    }

    // ---- the state dict --------------------------------------------------------------------------------------------

    /** The chosen state dict: its tensors in file order, and where in the file it was found. */
    private record Chosen(Map<String, TensorView> tensors, String where) {

        StateDict read(Path file, Function<Storage, ByteBuffer> bytes) {
            Map<String, INDArray> arrays = new LinkedHashMap<>();
            Map<String, String> origins = new LinkedHashMap<>();
            for (Map.Entry<String, TensorView> e : tensors.entrySet()) {
                String key = withoutDataParallelPrefix(e.getKey());
                if (arrays.containsKey(key)) {
                    throw new CheckpointException(file + ": keys '" + origins.getOrDefault(key, key) + "' and '"
                            + e.getKey() + "' are both '" + key + "' without the DataParallel prefix '"
                            + DATA_PARALLEL_PREFIX + "'");
                }
                TensorView tensor = e.getValue();
                arrays.put(key, toArray(tensor, bytes.apply(tensor.storage()), file.toString(), e.getKey()));
                origins.put(key, e.getKey());
            }
            boolean renamed = !origins.keySet().equals(tensors.keySet());
            log.info("{}: the state dict {} ({} tensors{})", file, where, arrays.size(), renamed ? ", prefix '"
                    + DATA_PARALLEL_PREFIX + "' removed" : "");
            return new StateDict(file.toString(), arrays, origins);
        }
    }

    private static Chosen choose(Object value, Path file) {
        if (!(value instanceof Map<?, ?> top)) {
            throw new CheckpointException(file + ": holds " + describe(value) + ", not a dictionary with a state "
                    + "dict");
        }
        for (String key : STATE_DICT_KEYS) {
            Map<String, TensorView> tensors = tensorsOf(top.get(key));
            if (tensors != null) {
                return new Chosen(tensors, "under '" + key + "'");
            }
        }
        Map<String, TensorView> tensors = tensorsOf(top);
        if (tensors != null) {
            return new Chosen(tensors, "at the top level");
        }
        List<String> keys = new ArrayList<>();
        top.keySet().forEach(k -> keys.add(String.valueOf(k)));
        throw new CheckpointException(file + ": no state dict (a dictionary of tensors) at the top level or under "
                + "any of " + STATE_DICT_KEYS + "; the top-level keys are " + keys);
    }

    /** {@code value} as a state dict (a non-empty dictionary from names to tensors), or null. */
    private static Map<String, TensorView> tensorsOf(Object value) {
        if (!(value instanceof Map<?, ?> map) || map.isEmpty()) {
            return null;
        }
        Map<String, TensorView> tensors = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String key) || !(e.getValue() instanceof TensorView tensor)) {
                return null;
            }
            tensors.put(key, tensor);
        }
        return tensors;
    }

    /** A tensor as a float32 C-order array: its elements gathered from the storage by offset and strides. */
    private static INDArray toArray(TensorView view, ByteBuffer storage, String source, String key) {
        long count = view.count();
        int itemSize = view.storage().type.itemSize;
        if (count * itemSize > Integer.MAX_VALUE - 8) {
            throw new CheckpointException(source + ": tensor '" + key + "' has " + count + " elements, more than "
                    + "one Java array can hold");
        }
        ByteBuffer elements;
        if (view.contiguous()) {
            elements = storage.slice((int) (view.offset() * itemSize), (int) (count * itemSize));
        } else {
            byte[] gathered = new byte[(int) (count * itemSize)];
            long[] size = view.size();
            long[] stride = view.stride();
            long[] index = new long[size.length];
            long at = view.offset();
            for (int i = 0; i < count; i++) {
                storage.get((int) (at * itemSize), gathered, i * itemSize, itemSize);
                // Next index in C order; `at` follows it through the strides.
                for (int d = size.length - 1; d >= 0; d--) {
                    if (++index[d] < size[d]) {
                        at += stride[d];
                        break;
                    }
                    at -= (size[d] - 1) * stride[d];
                    index[d] = 0;
                }
            }
            elements = ByteBuffer.wrap(gathered);
        }
        float[] values = NpzReader.toFloats(elements.order(storage.order()), view.storage().type.kind, itemSize,
                (int) count, source, key);
        return view.size().length == 0 ? Nd4j.scalar(values[0]) : Nd4j.create(values, view.size(), 'c');
    }
}
