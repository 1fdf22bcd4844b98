package org.sa2vp.config;

import org.nd4j.shade.jackson.annotation.JsonTypeInfo;
import org.nd4j.shade.jackson.databind.DatabindContext;
import org.nd4j.shade.jackson.databind.JavaType;
import org.nd4j.shade.jackson.databind.jsontype.impl.TypeIdResolverBase;

import java.util.Optional;

/**
 * The JSON type ids of one polymorphic configuration interface (a tuning method's {@code "method"}, a backbone's
 * {@code "family"}), filled by registration instead of a {@code @JsonSubTypes} list, so the interface names no
 * implementation. The interface carries
 * <pre>
 *   &#64;JsonTypeInfo(use = JsonTypeInfo.Id.CUSTOM, property = "method")
 *   &#64;JsonTypeIdResolver(TheInterface.JsonIds.class)    // a Resolver subclass with a no-argument constructor
 * </pre>
 * JSON without the property (files written before it existed) reads as {@link #untaggedId()}, when one is set:
 * {@link ConfigSupport}'s mapper asks for it.
 *
 * @param <T> the configuration interface
 */
public final class JsonTypes<T> {

    private final Class<T> base;
    private final String property;
    private final Registry<Class<? extends T>> types;
    private volatile String untaggedId;

    public JsonTypes(Class<T> base, String property) {
        this.base = base;
        this.property = property;
        this.types = new Registry<>(base.getSimpleName() + " " + property);
    }

    /** Maps {@code id} to {@code type} both ways (one id per class). */
    public void register(String id, Class<? extends T> type) {
        types.register(id, type);
    }

    /** JSON without the {@code property} is read as {@code id} (what files of an older format always were). */
    public void untaggedId(String id) {
        if (untaggedId != null && !untaggedId.equals(id)) {
            throw new IllegalArgumentException(base.getSimpleName() + " JSON without '" + property + "' already reads "
                    + "as '" + untaggedId + "', not '" + id + "'");
        }
        untaggedId = id;
    }

    public String untaggedId() {
        return untaggedId;
    }

    public String property() {
        return property;
    }

    public Class<? extends T> type(String id) {
        return types.get(id);
    }

    public String id(Class<?> type) {
        for (String id : types.names()) {
            if (types.get(id).equals(type)) {
                return id;
            }
        }
        throw new IllegalArgumentException(type.getName() + " has no registered " + base.getSimpleName() + " '"
                + property + "' id; register it (see docs/EXTENDING.md)");
    }

    /** Jackson's side: subclass with a no-argument constructor passing the interface's {@link JsonTypes}. */
    public abstract static class Resolver extends TypeIdResolverBase {

        private final JsonTypes<?> types;

        protected Resolver(JsonTypes<?> types) {
            this.types = types;
        }

        public JsonTypes<?> types() {
            return types;
        }

        @Override
        public String idFromValue(Object value) {
            return types.id(value.getClass());
        }

        @Override
        public String idFromValueAndType(Object value, Class<?> suggestedType) {
            return types.id(value != null ? value.getClass() : suggestedType);
        }

        @Override
        public JavaType typeFromId(DatabindContext context, String id) {
            return context.constructType(types.type(id));
        }

        /** The type of JSON that has no type property, if the registry names one. */
        public Optional<Class<?>> untaggedType() {
            String id = types.untaggedId();
            return id == null ? Optional.empty() : Optional.of(types.type(id));
        }

        @Override
        public JsonTypeInfo.Id getMechanism() {
            return JsonTypeInfo.Id.CUSTOM;
        }
    }
}
