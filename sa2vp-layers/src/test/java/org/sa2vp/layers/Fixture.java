package org.sa2vp.layers;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.util.Map;

/**
 * A fixture written by {@code tools/reference/make_layer_fixtures.py} (independent PyTorch implementation):
 * {@code <case>.npz} (float64 arrays, PyTorch names and layouts) and {@code <case>.json} (configuration).
 */
final class Fixture {

    final String name;
    final JsonNode config;
    private final Map<String, INDArray> arrays;

    private Fixture(String name, JsonNode config, Map<String, INDArray> arrays) {
        this.name = name;
        this.config = config;
        this.arrays = arrays;
    }

    static Fixture load(String name) {
        try {
            URL npz = Fixture.class.getResource("/fixtures/layers/" + name + ".npz");
            if (npz == null) {
                throw new IllegalStateException("missing fixture " + name + ".npz; run tools/reference/make_layer_fixtures.py");
            }
            Map<String, INDArray> arrays = Nd4j.createFromNpzFile(new File(npz.toURI()));
            JsonNode config;
            try (InputStream in = Fixture.class.getResourceAsStream("/fixtures/layers/" + name + ".json")) {
                config = new ObjectMapper().readTree(in);
            }
            return new Fixture(name, config, arrays);
        } catch (IOException | URISyntaxException e) {
            throw new IllegalStateException("cannot read fixture " + name, e);
        } catch (Exception e) {
            throw new IllegalStateException("cannot read fixture " + name + ": " + e, e);
        }
    }

    /** The array as the given data type (fixtures are float64). */
    INDArray get(String key, DataType dataType) {
        INDArray a = arrays.get(key);
        if (a == null) {
            throw new IllegalArgumentException("fixture " + name + " has no array '" + key + "'; it has "
                    + arrays.keySet());
        }
        return a.castTo(dataType).dup('c');
    }

    boolean has(String key) {
        return arrays.containsKey(key);
    }

    int integer(String field) {
        return config.get(field).asInt();
    }

    TokenGrid grid(String field) {
        JsonNode g = config.get(field);
        return TokenGrid.of(g.get(0).asInt(), g.get(1).asInt());
    }
}
