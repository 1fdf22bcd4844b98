package org.sa2vp.layers.runtime;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The scalar functions behind the fused kernels, against independent values. */
class KernelMathTest {

    /** (x, erf(x)) from Python's math.erf (the C library's erf), 20 chosen and 20 uniform on [−7, 7] (seed 3). */
    private static final double[][] ERF = {
        {0.0, 0.0},
        {1e-08, 1.1283791670955126e-08},
        {-1e-05, -1.1283791670579e-05},
        {0.1, 0.1124629160182849},
        {-0.3, -0.3286267594591274},
        {0.5, 0.5204998778130465},
        {0.9, 0.7969082124228322},
        {1.0, 0.8427007929497149},
        {-1.3, -0.9340079449406524},
        {1.7, 0.9837904585907745},
        {2.0, 0.9953222650189527},
        {-2.5, -0.999593047982555},
        {3.0, 0.9999779095030014},
        {3.7, 0.9999998328489421},
        {-4.2, -0.9999999971445058},
        {5.0, 0.9999999999984626},
        {5.9, 0.9999999999999999},
        {6.5, 1.0},
        {-8.0, -1.0},
        {12.0, 1.0},
        {-3.668495, -0.9999997874757699},
        {0.619209, 0.6188034645891697},
        {-1.820628, -0.9899689411519668},
        {1.454881, 0.9603630406309424},
        {1.760084, 0.9871945547953977},
        {-6.082596, -1.0},
        {-6.815648, -1.0},
        {4.724567, 0.9999999999763567},
        {-3.369044, -0.9999981072227672},
        {-3.719367, -0.9999998559283453},
        {6.939028, 1.0},
        {-0.416311, -0.443972794845979},
        {4.71046, 0.9999999999729131},
        {-0.331055, -0.36034589350912993},
        {1.946954, 0.9941021791427902},
        {-4.89137, -0.9999999999954012},
        {1.888049, 0.9924172356961428},
        {5.152634, 0.9999999999996829},
        {0.324537, 0.3537404319162639},
        {3.377526, 0.9999982166563504}
    };

    @Test
    void erfMatchesTheCLibraryToTheFitBound() {
        double worst = 0;
        for (double[] row : ERF) {
            double error = Math.abs(KernelMath.erf(row[0]) - row[1]);
            worst = Math.max(worst, error);
            // In float, the product the kernels write, it is the correctly rounded value or its neighbour.
            float rounded = (float) KernelMath.erf(row[0]);
            assertTrue(Math.abs(rounded - (float) row[1]) <= Math.ulp((float) row[1]), "erf(" + row[0] + ")");
        }
        assertTrue(worst <= 2e-15, "erf error " + worst);
        assertTrue(worst > 0, "the table should exercise the approximation, not only its clamp");
    }

    @Test
    void erfIsOddAndSaturates() {
        for (double x = 0; x <= 10; x += 0.37) {
            assertEquals(-KernelMath.erf(x), KernelMath.erf(-x), 0.0);
        }
        assertEquals(1.0, KernelMath.erf(40.0), 2e-15);
        assertEquals(-1.0, KernelMath.erf(Double.NEGATIVE_INFINITY), 2e-15);
    }

    @Test
    void expNonPositiveIsRelativelyAccurateDownToItsFloor() {
        double worst = 0;
        for (double y = 0; y >= -64; y -= 0.0137) {
            worst = Math.max(worst, Math.abs(KernelMath.expNonPositive(y) / Math.exp(y) - 1));
        }
        assertTrue(worst <= 5e-12, "relative error " + worst);
        assertEquals(1.0, KernelMath.expNonPositive(0.0), 1e-15);
        // Below the floor the value is exp(−64) = 1.6e-28: zero next to any softmax or Gaussian term that matters.
        assertTrue(KernelMath.expNonPositive(-1000) <= 2e-28);
    }
}
