package org.sa2vp.layers.runtime;

/**
 * Scalar functions and reductions for the fused Java kernels. The functions use multiplies, adds, one divide and
 * clamps only, so that C2 vectorises the loops that call them ({@code Math.exp} is a scalar call that keeps a loop
 * scalar); the reductions keep four partial sums, since C2 does not vectorise a floating-point sum.
 */
final class KernelMath {

    /*
     * erf(x) ≈ x·P(x²)/Q(x²) on [−6, 6], clamped outside (|erf(6)| = 1 − 2e-17). Weighted least-squares rational
     * fit of degree (12, 11) in x², made by `python3 tools/numerics/fit_erf.py 12 11 6` (mpmath, 40 digits):
     * absolute error ≤ 1.8e-15 in double, a few ulp; rounded to float it is the correctly rounded erf or a neighbour.
     */
    private static final double P0 = 1.1283791670955094, P1 = 0.27089110572482, P2 = 0.07530347540394221,
        P3 = 0.00969704754011019, P4 = 0.0011179636822385953, P5 = 8.949892790921183e-05, P6 = 5.739219818829791e-06,
        P7 = 2.8894821133136127e-07, P8 = 1.0498735254546798e-08, P9 = 2.9241692222605526e-10,
        P10 = 3.598715357044396e-12, P11 = 6.554265914652382e-15, P12 = -3.9094695903814095e-18;
    private static final double Q1 = 0.5734043250922366, Q2 = 0.15787074251491592, Q3 = 0.02768645676138369,
        Q4 = 0.003455368498854018, Q5 = 0.00032421347114356693, Q6 = 2.349847292637954e-05,
        Q7 = 1.3255865307160585e-06, Q8 = 5.747405201567359e-08, Q9 = 1.8279399992771587e-09,
        Q10 = 3.817605995379632e-11, Q11 = 2.1657175778901553e-13;
    private static final double ERF_LIMIT = 6.0;

    /** 1/k!, the Taylor coefficients of exp used by {@link #expNonPositive}. */
    private static final double E2 = 1.0 / 2, E3 = E2 / 3, E4 = E3 / 4, E5 = E4 / 5, E6 = E5 / 6, E7 = E6 / 7,
        E8 = E7 / 8, E9 = E8 / 9, E10 = E9 / 10, E11 = E10 / 11, E12 = E11 / 12, E13 = E12 / 13;
    /** exp(−64) = 1.6e-28: below it every caller (softmax terms, Gaussian tails) is zero to double precision. */
    private static final double EXP_FLOOR = -64.0;

    private KernelMath() {
    }

    /** {@code Σ a[ai + d]·b[bi + d]} for d < n, with four partial sums (one running sum is a latency chain). */
    static double dot(double[] a, int ai, double[] b, int bi, int n) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int d = 0;
        for (; d + 3 < n; d += 4) {
            s0 += a[ai + d] * b[bi + d];
            s1 += a[ai + d + 1] * b[bi + d + 1];
            s2 += a[ai + d + 2] * b[bi + d + 2];
            s3 += a[ai + d + 3] * b[bi + d + 3];
        }
        for (; d < n; d++) {
            s0 += a[ai + d] * b[bi + d];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** {@code Σ x[j]} for j < n, with four partial sums as {@link #dot}. */
    static double sum(double[] x, int n) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int j = 0;
        for (; j + 3 < n; j += 4) {
            s0 += x[j];
            s1 += x[j + 1];
            s2 += x[j + 2];
            s3 += x[j + 3];
        }
        for (; j < n; j++) {
            s0 += x[j];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** The error function (see {@link #P0}). */
    static double erf(double x) {
        double c = clampErf(x);
        return erfNumerator(c) / erfDenominator(c);
    }

    /**
     * {@code out[i] = erf(scale·x[i])} for {@code i < n}. Three short loops, not one: C2 vectorises a loop only
     * while its body is small, and the whole rational function in one loop ran scalar (10 ns per element against
     * 1.7 ns).
     */
    static void erf(double[] x, double scale, int n, double[] out, double[] scratch) {
        for (int i = 0; i < n; i++) {
            scratch[i] = clampErf(scale * x[i]);
        }
        for (int i = 0; i < n; i++) {
            out[i] = erfNumerator(scratch[i]);
        }
        for (int i = 0; i < n; i++) {
            out[i] /= erfDenominator(scratch[i]);
        }
    }

    private static double clampErf(double x) {
        return Math.max(-ERF_LIMIT, Math.min(ERF_LIMIT, x));
    }

    /** c·P(c²). */
    private static double erfNumerator(double c) {
        double u = c * c;
        double p = P12;
        p = p * u + P11;
        p = p * u + P10;
        p = p * u + P9;
        p = p * u + P8;
        p = p * u + P7;
        p = p * u + P6;
        p = p * u + P5;
        p = p * u + P4;
        p = p * u + P3;
        p = p * u + P2;
        p = p * u + P1;
        return c * (p * u + P0);
    }

    /** Q(c²). */
    private static double erfDenominator(double c) {
        double u = c * c;
        double q = Q11;
        q = q * u + Q10;
        q = q * u + Q9;
        q = q * u + Q8;
        q = q * u + Q7;
        q = q * u + Q6;
        q = q * u + Q5;
        q = q * u + Q4;
        q = q * u + Q3;
        q = q * u + Q2;
        q = q * u + Q1;
        return q * u + 1.0;
    }

    /**
     * exp(y) for y ≤ 0, to 5e-12 relative: with y clamped to −64, t = y/128 lies in [−0.5, 0], where exp(t) is its
     * Taylor series to t¹³ (remainder below 3e-15), and exp(y) = exp(t)^128, seven squarings.
     */
    static double expNonPositive(double y) {
        double t = Math.max(EXP_FLOOR, y) * (1.0 / 128);
        double e = ((((((((((((E13 * t + E12) * t + E11) * t + E10) * t + E9) * t + E8) * t + E7) * t + E6) * t + E5)
                * t + E4) * t + E3) * t + E2) * t + 1.0) * t + 1.0;
        e *= e;
        e *= e;
        e *= e;
        e *= e;
        e *= e;
        e *= e;
        return e * e;
    }
}
