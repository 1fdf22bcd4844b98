package org.sa2vp.zoo.benchmark;

import org.nd4j.shade.jackson.databind.JsonNode;
import org.sa2vp.config.ConfigSupport;

import java.util.Iterator;
import java.util.List;

/**
 * Reads typed values out of the benchmark table's JSON tree, failing in one line that names the row and the field.
 * The tree is read by hand rather than bound to the records so that every error names the row ({@code owner}) and
 * the dotted field path, which Jackson's binding errors do not.
 */
final class TableReader {

    private TableReader() {
    }

    /**
     * One field of one row.
     *
     * @param owner how errors name the row, e.g. {@code benchmarks.json benchmark 'vtab-1k/dtd'}
     * @param path  the dotted field path inside the row; null for the row itself
     */
    record Field(String owner, String path) {

        Field child(String name) {
            return new Field(owner, path == null ? name : path + "." + name);
        }

        private JsonNode value(JsonNode parent) {
            String leaf = path.substring(path.lastIndexOf('.') + 1);
            JsonNode value = parent.get(leaf);
            return value == null || value.isNull() ? null : value;
        }

        private void check(boolean ok, String expected, Object actual) {
            ConfigSupport.check(ok, owner, path, expected, actual);
        }

        /** An integer of at least {@code min}, or null. */
        Integer integer(JsonNode parent, int min) {
            JsonNode value = value(parent);
            if (value == null) {
                return null;
            }
            check(value.isIntegralNumber() && value.asLong() >= min && value.asLong() <= Integer.MAX_VALUE,
                    "an integer >= " + min + " or null", value);
            return value.asInt();
        }

        /** A required integer of at least {@code min}. */
        int requiredInteger(JsonNode parent, int min) {
            Integer value = integer(parent, min);
            check(value != null, "an integer >= " + min, "nothing");
            return value;
        }

        /** A finite number above 0, or null. */
        Double positive(JsonNode parent) {
            JsonNode value = value(parent);
            if (value == null) {
                return null;
            }
            check(value.isNumber() && value.asDouble() > 0 && Double.isFinite(value.asDouble()),
                    "a number > 0 or null", value);
            return value.asDouble();
        }

        /** A number in [0, 1), or null. */
        Double fraction(JsonNode parent) {
            JsonNode value = value(parent);
            if (value == null) {
                return null;
            }
            check(value.isNumber() && value.asDouble() >= 0 && value.asDouble() < 1, "a number in [0, 1) or null",
                    value);
            return value.asDouble();
        }

        /** An accuracy in percent (0 to 100), or null. */
        Double percent(JsonNode parent) {
            JsonNode value = value(parent);
            if (value == null) {
                return null;
            }
            check(value.isNumber() && value.asDouble() >= 0 && value.asDouble() <= 100,
                    "an accuracy in % (0 to 100) or null", value);
            return value.asDouble();
        }

        /** Text that is not blank, or null. */
        String optionalText(JsonNode parent) {
            JsonNode value = value(parent);
            if (value == null) {
                return null;
            }
            check(value.isTextual() && !value.asText().isBlank(), "non-blank text or null", value);
            return value.asText();
        }

        /** Required non-blank text. */
        String text(JsonNode parent) {
            String value = optionalText(parent);
            check(value != null, "non-blank text", "nothing");
            return value;
        }

        /** Fails on a field of {@code object} not in {@code known} (a misspelt key would otherwise read as null). */
        void onlyFields(JsonNode object, List<String> known) {
            String where = path == null ? "the row" : path;
            ConfigSupport.check(object != null && object.isObject(), owner, where, "a JSON object", object);
            for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
                String name = names.next();
                ConfigSupport.check(known.contains(name), owner, where, "made of the fields " + known,
                        "unknown field '" + name + "'");
            }
        }
    }
}
