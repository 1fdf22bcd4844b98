package org.sa2vp.backbone.weights;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A checkpoint format's key-name table: how each timm-named tensor (the library's canonical state dict) is found
 * in the file. Names may contain {@code {i}} (the block index); a source may list alternatives separated by
 * {@code |} (names that changed between library versions); several sources are converted and concatenated along
 * axis 0 (Flax's separate query/key/value kernels → timm's fused {@code qkv}). Every key of the file must be
 * either mapped or declared unused: anything else is reported, never silently ignored.
 */
public final class KeyTable {

    /** One timm tensor and where it comes from. */
    public record Entry(String target, TensorLayout layout, boolean optional, List<String> sources) {
    }

    private final String format;
    private final String blockMarker;
    private final List<Entry> global = new ArrayList<>();
    private final List<Entry> perBlock = new ArrayList<>();
    private final List<Pattern> unused = new ArrayList<>();
    private List<String> prefixes = List.of("");

    /**
     * @param format      the name used in messages ("Google ViT .npz", …)
     * @param blockMarker a source name with {@code {i}} present in every block, used to count the blocks
     */
    public KeyTable(String format, String blockMarker) {
        this.format = format;
        this.blockMarker = blockMarker;
    }

    public String format() {
        return format;
    }

    /** Values tried for {@code {p}} in source names (e.g. Hugging Face's optional {@code vit.} prefix). */
    public KeyTable prefixes(String... values) {
        prefixes = List.of(values);
        return this;
    }

    /** A required tensor; {@code target} or a source containing {@code {i}} makes it per-block. */
    public KeyTable map(String target, TensorLayout layout, String... sources) {
        return add(new Entry(target, layout, false, List.of(sources)));
    }

    /** A tensor that a checkpoint may lack (a head, the class token of a pooled model, qkv biases). */
    public KeyTable optional(String target, TensorLayout layout, String... sources) {
        return add(new Entry(target, layout, true, List.of(sources)));
    }

    /** Keys (regular expressions) that belong to the format but are not used by the backbone (buffers, poolers). */
    public KeyTable unused(String... regexes) {
        for (String r : regexes) {
            unused.add(Pattern.compile(r));
        }
        return this;
    }

    private KeyTable add(Entry e) {
        (e.target().contains("{i}") ? perBlock : global).add(e);
        return this;
    }

    /** True when the file looks like this format (its block marker and a required global key are present). */
    public boolean recognises(StateDict dict) {
        return recognises(dict.keys());
    }

    /** As {@link #recognises(StateDict)}, from the file's key names alone. */
    public boolean recognises(Collection<String> keys) {
        Set<String> names = keys instanceof Set<String> set ? set : new HashSet<>(keys);
        return !blockIndices(names).isEmpty() && global.stream().anyMatch(e -> !e.optional()
                && alternatives(e.sources().get(0)).stream().anyMatch(names::contains));
    }

    /** Number of blocks: block indices found for the marker; they must be 0..n-1. */
    public int countBlocks(StateDict dict) {
        TreeSet<Integer> indices = blockIndices(dict.keys());
        if (!indices.isEmpty() && (indices.first() != 0 || indices.last() != indices.size() - 1)) {
            throw new CheckpointException(dict.source() + ": blocks are not numbered 0.." + (indices.size() - 1)
                    + " (found " + indices + " for '" + blockMarker + "')");
        }
        return indices.size();
    }

    private TreeSet<Integer> blockIndices(Collection<String> keys) {
        TreeSet<Integer> indices = new TreeSet<>();
        for (String marker : alternatives(blockMarker)) {
            Pattern p = Pattern.compile(Pattern.quote(marker).replace("{i}", "\\E(\\d+)\\Q"));
            for (String k : keys) {
                Matcher m = p.matcher(k);
                if (m.matches()) {
                    indices.add(Integer.parseInt(m.group(1)));
                }
            }
        }
        return indices;
    }

    /**
     * Converts {@code dict} to timm names and PyTorch layouts.
     *
     * @param strict when true, keys that are neither mapped nor declared unused fail the load (listed)
     */
    public StateDict toTimm(StateDict dict, boolean strict) {
        int blocks = countBlocks(dict);
        if (blocks == 0) {
            throw new CheckpointException(dict.source() + ": no transformer blocks found (expected keys like '"
                    + blockMarker.replace("{i}", "0") + "' of a " + format + ")");
        }
        Map<String, INDArray> out = new LinkedHashMap<>();
        Map<String, String> origins = new LinkedHashMap<>();
        Set<String> consumed = new LinkedHashSet<>();
        List<String> missing = new ArrayList<>();
        for (Entry e : global) {
            convert(dict, e, -1, out, origins, consumed, missing);
        }
        for (int i = 0; i < blocks; i++) {
            for (Entry e : perBlock) {
                convert(dict, e, i, out, origins, consumed, missing);
            }
        }
        if (!missing.isEmpty()) {
            throw new CheckpointException(dict.source() + ": missing " + (missing.size() == 1 ? "key " : "keys ")
                    + String.join(", ", missing) + " (" + format + (perBlock.isEmpty() ? "" : ", " + blocks + " blocks")
                    + ")");
        }
        List<String> unexpected = dict.keys().stream().filter(k -> !consumed.contains(k))
                .filter(k -> unused.stream().noneMatch(p -> p.matcher(k).matches())).collect(Collectors.toList());
        if (strict && !unexpected.isEmpty()) {
            throw new CheckpointException(dict.source() + ": unexpected keys for a " + format + ": " + unexpected
                    + " (not part of the architecture; load non-strictly to ignore them)");
        }
        return new StateDict(dict.source(), out, origins);
    }

    private void convert(StateDict dict, Entry e, int block, Map<String, INDArray> out, Map<String, String> origins,
                         Set<String> consumed, List<String> missing) {
        List<INDArray> parts = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (String source : e.sources()) {
            String key = find(dict, source, block);
            if (key == null) {
                if (!e.optional()) {
                    missing.add("'" + substitute(alternatives(source).get(0), block) + "'");
                }
                return;
            }
            names.add(key);
            parts.add(e.layout().toPyTorch(dict.get(key), dict.source(), "'" + key + "'"));
        }
        String target = substitute(e.target(), block);
        out.put(target, parts.size() == 1 ? parts.get(0) : Nd4j.concat(0, parts.toArray(new INDArray[0])));
        origins.put(target, String.join(" + ", names));
        consumed.addAll(names);
    }

    /** The names {@code source} stands for: its {@code |} alternatives, each with every {@code {p}} prefix. */
    private List<String> alternatives(String source) {
        List<String> names = new ArrayList<>();
        for (String alternative : source.split("\\|")) {
            for (String prefix : prefixes) {
                String name = alternative.replace("{p}", prefix);
                if (!names.contains(name)) {
                    names.add(name);
                }
            }
        }
        return names;
    }

    private String find(StateDict dict, String source, int block) {
        for (String alternative : alternatives(source)) {
            String key = substitute(alternative, block);
            if (dict.contains(key)) {
                return key;
            }
        }
        return null;
    }

    private static String substitute(String name, int block) {
        return block < 0 ? name : name.replace("{i}", Integer.toString(block));
    }
}
