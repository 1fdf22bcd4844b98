package org.sa2vp.config;

import org.nd4j.shade.jackson.core.JsonProcessingException;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.UncheckedIOException;

/**
 * What every serialisable configuration (the backbone's, the methods', the training recipe) shares: JSON through
 * one mapper, and field checks whose one-line message names the configuration, the field, the expected and the
 * actual value.
 */
public final class ConfigSupport {

    private static final ObjectMapper JSON = new ObjectMapper();

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

    /** Fails with "{@code owner}: {@code field} must be {@code expected}, got {@code actual}" unless {@code ok}. */
    public static void check(boolean ok, String owner, String field, String expected, Object actual) {
        if (!ok) {
            throw new IllegalArgumentException(owner + ": " + field + " must be " + expected + ", got " + actual);
        }
    }
}
