package org.sa2vp;

import org.nd4j.shade.jackson.databind.JsonNode;
import org.sa2vp.backbone.swin.SwinTransformerConfig;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the tests find the fixtures that {@code tools/reference} writes into {@code src/test/resources/fixtures},
 * and what their JSON descriptions share.
 */
public final class TestFixtures {

    private TestFixtures() {
    }

    /**
     * The fixture {@code fixtures/<dir>/<name>}.
     *
     * @param tool the script that writes it, named in the message when it is missing
     */
    public static Path file(String dir, String name, String tool) {
        URL url = TestFixtures.class.getResource("/fixtures/" + dir + "/" + name);
        if (url == null) {
            throw new IllegalStateException("missing fixture fixtures/" + dir + "/" + name + "; run " + tool);
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A JSON array of integers as a list. */
    public static List<Integer> ints(JsonNode array) {
        List<Integer> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asInt()));
        return out;
    }

    /**
     * The square-image Swin a reference script's {@code config.json} describes ({@code inChannels},
     * {@code imageSize}, {@code patchSize}, {@code embedDim}, {@code depths}, {@code numHeads}, {@code windowSize},
     * {@code mlpRatio}), its LayerNorm epsilon under {@code layerNormEpsField}.
     */
    public static SwinTransformerConfig swin(JsonNode c, String layerNormEpsField) {
        return SwinTransformerConfig.builder().inChannels(c.get("inChannels").asInt())
                .imageHeight(c.get("imageSize").asInt()).imageWidth(c.get("imageSize").asInt())
                .patchSize(c.get("patchSize").asInt()).embedDim(c.get("embedDim").asInt()).depths(ints(c.get("depths")))
                .numHeads(ints(c.get("numHeads"))).windowSize(c.get("windowSize").asInt())
                .mlpRatio(c.get("mlpRatio").asDouble()).layerNormEps(c.get(layerNormEpsField).asDouble()).build()
                .validated();
    }
}
