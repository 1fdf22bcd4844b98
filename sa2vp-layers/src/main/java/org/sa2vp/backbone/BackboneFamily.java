package org.sa2vp.backbone;

import java.nio.file.Path;
import java.util.List;

/**
 * A backbone family as {@link Backbones} registers it: found by {@link java.util.ServiceLoader} when listed in
 * {@code META-INF/services/org.sa2vp.backbone.BackboneFamily}, or given to {@link Backbones#register}.
 */
public interface BackboneFamily {

    /** The family's name and JSON {@code "family"} id, e.g. {@code vit}. */
    String name();

    /** The configuration class, implementing {@link Backbone}. */
    Class<? extends Backbone> configurationType();

    /** True for the one family that JSON without a {@code "family"} id belongs to (files of the first format). */
    default boolean readsUntaggedJson() {
        return false;
    }

    /** Names of the ready-made variants, e.g. {@code vit_base_patch16_224}. */
    List<String> variants();

    /** The named variant (one of {@link #variants()}), without a head. */
    Backbone variant(String name);

    /** Whether {@code file} holds weights of this family (looked at without reading the tensors where possible). */
    boolean recognises(Path file);

    /** Reads a checkpoint of this family, inferring what the file does not store from {@code options}. */
    BackboneCheckpoint read(Path file, CheckpointOptions options);
}
