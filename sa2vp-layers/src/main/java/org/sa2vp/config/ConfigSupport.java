package org.sa2vp.config;

import org.nd4j.shade.jackson.core.JsonProcessingException;
import org.nd4j.shade.jackson.databind.DeserializationContext;
import org.nd4j.shade.jackson.databind.JavaType;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.deser.DeserializationProblemHandler;
import org.nd4j.shade.jackson.databind.jsontype.TypeIdResolver;

import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * What every serialisable configuration (the backbone's, the methods', the training recipe) shares: JSON through
 * one mapper, and field checks whose one-line message names the configuration, the field, the expected and the
 * actual value. The mapper reads a registered polymorphic configuration ({@link JsonTypes}) that lacks its type
 * property as the type registered for untagged JSON, so files written before the property existed still load.
 */
public final class ConfigSupport {

    private static final ObjectMapper JSON = new ObjectMapper().addHandler(new DeserializationProblemHandler() {
        @Override
        public JavaType handleMissingTypeId(DeserializationContext context, JavaType baseType,
                                            TypeIdResolver resolver, String failureMessage) {
            if (resolver instanceof JsonTypes.Resolver registered) {
                return registered.untaggedType().map(context::constructType).orElse(null);
            }
            return null;
        }
    });

    private ConfigSupport() {
    }

    /** Compact JSON of a configuration. */
    public static String toJson(Object config) {
        try {
            return JSON.writeValueAsString(config);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Indented JSON of a configuration. */
    public static String toPrettyJson(Object config) {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The configuration in {@code json}; a one-line error naming the type when it is not one. */
    public static <T> T fromJson(String json, Class<T> type) {
        try {
            return JSON.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("Not a " + type.getSimpleName() + " JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * The one mapper of every configuration, layer JSON aside (DL4J serialises its own graphs); thread-safe, not to
     * be reconfigured.
     */
    public static ObjectMapper mapper() {
        return JSON;
    }

    /**
     * A top-level field whose value differs between two JSON objects.
     *
     * @param field the field name
     * @param from  its value in the first object, or null when absent there
     * @param to    its value in the second object, or null when absent there
     */
    public record FieldChange(String field, JsonNode from, JsonNode to) {
    }

    /**
     * The top-level fields whose values differ between two configurations' JSON: {@code fromJson}'s fields in order,
     * then the fields only {@code toJson} has.
     */
    public static List<FieldChange> changedFields(String fromJson, String toJson) {
        JsonNode from, to;
        try {
            from = JSON.readTree(fromJson);
            to = JSON.readTree(toJson);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        List<FieldChange> changes = new ArrayList<>();
        for (Iterator<String> it = from.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!from.get(field).equals(to.get(field))) {
                changes.add(new FieldChange(field, from.get(field), to.get(field)));
            }
        }
        for (Iterator<String> it = to.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!from.has(field)) {
                changes.add(new FieldChange(field, null, to.get(field)));
            }
        }
        return changes;
    }

    /** How a field error names what it is about: "{@code type}" or "{@code type} '{@code name}'". */
    public static String owner(String type, String name) {
        return name == null ? type : type + " '" + name + "'";
    }

    /**
     * The one field-error helper of configurations, layers and vertices: fails with "{@code owner}: {@code field}
     * must be {@code expected}, got {@code actual}" unless {@code ok}.
     */
    public static void check(boolean ok, String owner, String field, String expected, Object actual) {
        if (!ok) {
            throw new IllegalArgumentException(owner + ": " + field + " must be " + expected + ", got " + actual);
        }
    }
}
