package org.sa2vp.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Named entries of one extension point (tuning methods, backbone families, JSON type ids), in registration order.
 * The extension point's interface names none of its implementations: they register here, from a
 * {@link java.util.ServiceLoader} provider or from user code. Look-ups of an unknown name fail with one line that
 * lists what is registered.
 *
 * @param <T> what an entry is
 */
public final class Registry<T> {

    private final String what;
    private final Map<String, T> entries = new LinkedHashMap<>();

    /** @param what what an entry is called in messages, e.g. "tuning method" */
    public Registry(String what) {
        this.what = what;
    }

    /**
     * Adds {@code entry} under {@code name}. Registering an equal entry again is a no-op (a provider found twice on
     * the class path); another entry under a taken name is an error.
     */
    public synchronized void register(String name, T entry) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException(what + " name must be non-empty, got '" + name + "'");
        }
        T existing = entries.get(name);
        if (existing != null && !existing.equals(entry)) {
            throw new IllegalArgumentException(what + " '" + name + "' is already registered (" + existing
                    + "); choose another name");
        }
        entries.put(name, entry);
    }

    public synchronized Optional<T> find(String name) {
        return Optional.ofNullable(entries.get(name));
    }

    /** The entry, or "unknown {what} 'name'; registered: a, b, c". */
    public synchronized T get(String name) {
        T entry = entries.get(name);
        if (entry == null) {
            throw new IllegalArgumentException("unknown " + what + " '" + name + "'; registered: "
                    + String.join(", ", entries.keySet()));
        }
        return entry;
    }

    /** Names in registration order. */
    public synchronized List<String> names() {
        return Collections.unmodifiableList(new ArrayList<>(entries.keySet()));
    }

    /** Entries in registration order. */
    public synchronized List<T> entries() {
        return Collections.unmodifiableList(new ArrayList<>(entries.values()));
    }
}
