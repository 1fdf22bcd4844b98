package org.sa2vp.zoo;

import org.sa2vp.backbone.BackboneCheckpoint;
import org.sa2vp.backbone.Backbones;
import org.sa2vp.backbone.CheckpointOptions;
import org.sa2vp.config.Registry;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The backbones bundled in this jar, by name, one row each: what {@code --backbone zoo:NAME} of the command line
 * reads instead of a checkpoint file. A row turns the reading options (image size, heads) into a checkpoint, so a
 * bundled backbone is read exactly as a file would be (position embedding resized to another image size, say).
 */
public final class ZooBackbones {

    /** The prefix that marks a zoo name where a checkpoint file is expected: {@code zoo:vit_tiny_patch4_32_fashion}. */
    public static final String PREFIX = "zoo:";

    private static final Registry<FashionMnistBackbone<?>> BUNDLED = new Registry<>("zoo backbone");

    static {
        BUNDLED.register(PretrainedTinyVit.NAME, new PretrainedTinyVit());
        BUNDLED.register(PretrainedTinySwin.NAME, new PretrainedTinySwin());
    }

    private ZooBackbones() {
    }

    /** The bundled backbones' names. */
    public static List<String> names() {
        return BUNDLED.names();
    }

    /**
     * The bundled backbone {@code name}, read with {@code options} (null fields: the bundled architecture's own).
     *
     * @throws IllegalArgumentException "unknown zoo backbone 'x'; registered: ..." for a name not bundled
     */
    public static BackboneCheckpoint checkpoint(String name, CheckpointOptions options) {
        return BUNDLED.get(name).checkpoint(options);
    }

    /**
     * The bundled backbone {@code name} as a DL4J zoo model: its architecture, pretraining recipe and weights.
     *
     * @throws IllegalArgumentException "unknown zoo backbone 'x'; registered: ..." for a name not bundled
     */
    public static FashionMnistBackbone<?> model(String name) {
        return BUNDLED.get(name);
    }

    /**
     * A checkpoint file, or a bundled backbone when {@code fileOrZooName} starts with {@link #PREFIX}.
     *
     * @throws IllegalArgumentException for an unknown zoo name, or a file that is not there
     */
    public static BackboneCheckpoint read(String fileOrZooName, CheckpointOptions options) {
        if (fileOrZooName.startsWith(PREFIX)) {
            return checkpoint(fileOrZooName.substring(PREFIX.length()), options);
        }
        Path file = Path.of(fileOrZooName);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("backbone checkpoint " + file + " not found (a file, or " + PREFIX
                    + "NAME for a bundled backbone: " + String.join(", ", names()) + ")");
        }
        return Backbones.read(file, options);
    }
}
