package org.sa2vp.method;

import org.sa2vp.backbone.Backbone;

/**
 * A tuning method by the name the command line, the benchmarks and the result tables use, on one backbone family:
 * how to make its default configuration on a backbone of that family.
 *
 * @param name           e.g. {@code sa2vp}, {@code vpt-deep}; lower case, words joined by '-'
 * @param backboneFamily the {@link Backbone#family()} it builds on, or {@link #ANY_FAMILY}
 * @param description    one line for {@code --help} and listings
 * @param factory        the default configuration for {@code numClasses} classes on a headless backbone
 */
public record MethodVariant(String name, String backboneFamily, String description, Factory factory) {

    /** A variant that works on every backbone through {@link Backbone}'s own graph pieces. */
    public static final String ANY_FAMILY = "*";

    /** Makes a variant's default configuration. */
    @FunctionalInterface
    public interface Factory {
        TuningMethod create(Backbone backbone, int numClasses);
    }

    public boolean buildsOn(String family) {
        return backboneFamily.equals(ANY_FAMILY) || backboneFamily.equals(family);
    }
}
