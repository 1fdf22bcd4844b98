package org.sa2vp.layers;

import lombok.AllArgsConstructor;
import lombok.Data;
import lombok.NoArgsConstructor;
import org.sa2vp.layers.runtime.WindowNeighbourhood;

import java.io.Serializable;

/** The spatial layout of a token map: {@code height × width} patch tokens in row-major order. */
@Data
@NoArgsConstructor
@AllArgsConstructor
public class TokenGrid implements Serializable {
    private int height;
    private int width;

    public static TokenGrid of(int height, int width) {
        return new TokenGrid(height, width);
    }

    public static TokenGrid square(int side) {
        return new TokenGrid(side, side);
    }

    /** Number of patch tokens, {@code height·width}. */
    public int size() {
        return height * width;
    }

    /** Number of tokens of a map with this grid, plus one when it carries a class token at index 0. */
    public int tokens(boolean classToken) {
        return size() + (classToken ? 1 : 0);
    }

    /** Which keys of {@code keyGrid} each query of this grid attends to ({@link WindowNeighbourhood}). */
    public WindowNeighbourhood windowsOver(TokenGrid keyGrid, boolean classToken, int windowSize,
                                           AttentionMode mode) {
        return WindowNeighbourhood.of(height, width, keyGrid.height, keyGrid.width, classToken, windowSize,
                mode == AttentionMode.GLOBAL);
    }

    @Override
    public String toString() {
        return height + "x" + width;
    }
}
