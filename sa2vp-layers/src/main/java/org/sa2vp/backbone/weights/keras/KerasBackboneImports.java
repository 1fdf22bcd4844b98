package org.sa2vp.backbone.weights.keras;

import org.sa2vp.backbone.weights.CheckpointException;
import org.sa2vp.backbone.weights.CheckpointFormat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.TreeSet;

/**
 * The registered Keras {@code .h5} layouts of the backbone families ({@link KerasBackboneImport}), loaded with
 * {@link ServiceLoader}: which family a Keras file belongs to, told from its layer classes
 * ({@link KerasFiles#layerClasses}) before any weight is read, and the family's import of it.
 */
public final class KerasBackboneImports {

    private static final List<KerasBackboneImport> IMPORTS = new ArrayList<>();

    static {
        for (KerasBackboneImport layout : ServiceLoader.load(KerasBackboneImport.class,
                KerasBackboneImports.class.getClassLoader())) {
            IMPORTS.add(layout);
        }
    }

    private KerasBackboneImports() {
    }

    /** The registered layouts, in registration order. */
    public static List<KerasBackboneImport> registered() {
        return Collections.unmodifiableList(IMPORTS);
    }

    /**
     * The family of a Keras file, from its layer classes; empty for files that are no Keras {@code .h5}, cannot be
     * read, or whose layer classes are no registered layout's or more than one's (the family's reader says which).
     */
    public static Optional<String> familyOf(Path file) {
        try {
            if (CheckpointFormat.detect(file) != CheckpointFormat.KERAS_H5) {
                return Optional.empty();
            }
            List<KerasBackboneImport> matching = matching(KerasFiles.layerClasses(file));
            return matching.size() == 1 ? Optional.of(matching.get(0).family()) : Optional.empty();
        } catch (CheckpointException e) {
            return Optional.empty();
        }
    }

    /**
     * The import of {@code family}'s layout, once the file's layer classes are found to be that layout.
     *
     * @throws CheckpointException one line naming the file: unreadable, of no registered layout (each layout and the
     *                             file's classes named), of another family's layout, or of several
     */
    public static KerasBackboneImport require(Path h5, String family) {
        String file = h5.getFileName().toString();
        KerasBackboneImport wanted = IMPORTS.stream().filter(i -> i.family().equals(family)).findFirst()
                .orElseThrow(() -> new CheckpointException(file + ": no Keras layout is registered for backbone "
                        + "family '" + family + "'"));
        List<String> classes = KerasFiles.layerClasses(h5);
        List<KerasBackboneImport> matching = matching(classes);
        if (matching.isEmpty()) {
            throw new CheckpointException(file + ": a Keras model that is neither " + String.join(" nor ",
                    IMPORTS.stream().map(KerasBackboneImport::layout).toList()) + "; its layer classes: "
                    + new TreeSet<>(classes));
        }
        if (matching.size() > 1) {
            throw new CheckpointException(file + ": a Keras model with the layers of " + String.join(" and of ",
                    matching.stream().map(KerasBackboneImport::layout).toList()) + "; a backbone has one layout");
        }
        if (matching.get(0) != wanted) {
            throw new CheckpointException(file + ": a Keras model of " + matching.get(0).layout()
                    + ", which backbone family '" + matching.get(0).family() + "' reads, not '" + family + "'");
        }
        return wanted;
    }

    private static List<KerasBackboneImport> matching(List<String> classes) {
        return IMPORTS.stream().filter(i -> classes.stream().anyMatch(i.markingClasses()::contains)).toList();
    }
}
