package org.sa2vp.method;

import java.util.List;
import java.util.Map;

/**
 * What a module contributes to {@link TuningMethods}: its configuration classes by JSON {@code "method"} id and its
 * named variants. Listed in {@code META-INF/services/org.sa2vp.method.TuningMethodProvider} so that
 * {@link java.util.ServiceLoader} finds it, or given to {@link TuningMethods#register}.
 */
public interface TuningMethodProvider {

    /** JSON {@code "method"} id → configuration class, e.g. {@code "sa2vp" → Sa2vpConfig.class}. */
    Map<String, Class<? extends TuningMethod>> configurationTypes();

    /** The id (a key of {@link #configurationTypes()}) that JSON without {@code "method"} is read as, or null. */
    default String untaggedJsonType() {
        return null;
    }

    /**
     * Where the provider's variants stand in listings (lower first; ties by class name), so the order does not
     * depend on the class path. This library's providers are below 100, the default.
     */
    default int order() {
        return 100;
    }

    /** Named variants, in the order listings show them. */
    List<MethodVariant> variants();
}
