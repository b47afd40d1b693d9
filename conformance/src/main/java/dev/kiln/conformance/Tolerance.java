package dev.kiln.conformance;

/**
 * How far a backend's output may be from the reference backend's, in the manner of oneDNN's
 * benchdnn: an element passes when
 * <pre>
 *     |y - y_ref| <= atol + rtol * scale,      scale = max |y_ref| over the whole output
 * </pre>
 * and {@code rtol} grows with the length of the reduction that produced each element:
 * <pre>
 *     rtol = SAFETY * epsilon * sqrt(K)        epsilon = 2^-23, the float32 machine epsilon
 * </pre>
 * Why this shape:
 * <ul>
 *   <li>Two correct float32 implementations differ by rounding, and rounding error is relative
 *       to the size of the numbers being added, so the bound is relative to the output's
 *       magnitude. Using the largest magnitude of the output rather than each element's own
 *       value keeps elements that cancel to almost zero (a sum of large terms of both signs)
 *       from failing on a difference that is tiny compared with the terms that produced it.</li>
 *   <li>A sum of K rounded products in a different order (blocking, SIMD lanes, FMA) differs by
 *       about epsilon * sqrt(K) of the partial sums' size: each addition rounds independently,
 *       so the errors add like a random walk. The worst case is K * epsilon, but real summation
 *       orders do not reach it, and a bound that loose would hide real bugs in long reductions.</li>
 *   <li>{@value #SAFETY} absorbs the constant factors: a few ulps for transcendental functions
 *       (a backend's exp is not the reference's double-precision exp), the reference itself
 *       rounding, and reductions that chain two sums (softmax, batch-norm after a convolution).</li>
 * </ul>
 * A wrong kernel (a missed tap, a wrong channel, an activation not applied) is off by a sizeable
 * fraction of the output's scale, orders of magnitude above this bound.
 *
 * @param atol an absolute allowance, for outputs whose reference is all zeros
 * @param rtol the allowance relative to the output's scale
 */
public record Tolerance(double atol, double rtol) {

    /** The float32 machine epsilon, 2^-23. */
    public static final double FLOAT_EPSILON = Math.ulp(1.0f);

    /** Headroom over the random-walk estimate; see the class comment. */
    public static final double SAFETY = 16;

    public Tolerance {
        if (!(atol >= 0) || !(rtol >= 0)) {
            throw new IllegalArgumentException("tolerances must be non-negative numbers, got atol " + atol
                    + " and rtol " + rtol);
        }
    }

    /** For an op whose every output element is a reduction over {@code length} products or terms (1 for pointwise ops). */
    public static Tolerance forReduction(long length) {
        if (length < 1) {
            throw new IllegalArgumentException("a reduction has at least one term, got " + length);
        }
        return new Tolerance(0, SAFETY * FLOAT_EPSILON * Math.sqrt(length));
    }

    /**
     * For a whole network of {@code depth} layers whose longest reduction has {@code maxReduction}
     * terms. Each layer adds its own rounding error, independent of the others, so the errors
     * add like a random walk across layers too: rtol grows with sqrt(depth) on top of the
     * per-layer bound. This assumes layers that roughly preserve magnitudes (the models' weight
     * initialisation is chosen for that), so that errors are neither amplified nor damped.
     */
    public static Tolerance forNetwork(long maxReduction, int depth) {
        if (depth < 1) {
            throw new IllegalArgumentException("a network has at least one layer, got " + depth);
        }
        Tolerance layer = forReduction(maxReduction);
        return new Tolerance(0, layer.rtol * Math.sqrt(depth));
    }

    /** The largest difference allowed for an output of this scale (max |y_ref|). */
    public double bound(double scale) {
        return atol + rtol * scale;
    }

    /**
     * Compares an output with the reference output of the same shape. NaN matches only NaN, and
     * an infinity only the same infinity; anything else involving them is an infinite error.
     */
    public Comparison compare(float[] actual, float[] expected) {
        return compare(actual, expected, 0);
    }

    /**
     * As {@link #compare(float[], float[])}, with the scale at least {@code scaleFloor}: the
     * magnitude of the operands a value was computed from where it may be far smaller than they
     * were (see {@link dev.kiln.conformance.verify.ValueTolerances#errorScales}).
     */
    public Comparison compare(float[] actual, float[] expected, double scaleFloor) {
        if (actual.length != expected.length) {
            throw new IllegalArgumentException("cannot compare " + actual.length + " values with "
                    + expected.length + " reference values");
        }
        double scale = Double.isFinite(scaleFloor) ? Math.max(0, scaleFloor) : 0;
        for (float e : expected) {
            if (Float.isFinite(e)) {
                scale = Math.max(scale, Math.abs(e));
            }
        }
        double bound = bound(scale);
        double worst = 0;
        int worstIndex = -1;
        int outside = 0;
        for (int i = 0; i < actual.length; i++) {
            double error = difference(actual[i], expected[i]);
            if (error > bound) {
                outside++;
            }
            if (error > worst || worstIndex < 0) {
                worst = error;
                worstIndex = i;
            }
        }
        return new Comparison(actual.length, scale, bound, worst, worstIndex,
                worstIndex < 0 ? Float.NaN : actual[worstIndex], worstIndex < 0 ? Float.NaN : expected[worstIndex],
                outside);
    }

    private static double difference(float actual, float expected) {
        if (Float.isNaN(expected) || Float.isNaN(actual)) {
            return Float.isNaN(expected) && Float.isNaN(actual) ? 0 : Double.POSITIVE_INFINITY;
        }
        if (Float.isInfinite(expected) || Float.isInfinite(actual)) {
            return actual == expected ? 0 : Double.POSITIVE_INFINITY;
        }
        return Math.abs((double) actual - (double) expected);
    }

    @Override
    public String toString() {
        return String.format("|y - y_ref| <= %.3g + %.3g * max|y_ref|", atol, rtol);
    }

    /**
     * The outcome of comparing one output: its scale (max |y_ref|), the bound that scale gives,
     * the largest difference and where it is, and how many elements exceed the bound.
     */
    public record Comparison(int count, double scale, double bound, double maxAbsError, int worstIndex,
                             float worstActual, float worstExpected, int elementsOutside) {

        public boolean passed() {
            return elementsOutside == 0;
        }

        /** The largest difference relative to the output's scale (infinite when the scale is zero and they differ). */
        public double maxRelativeError() {
            if (maxAbsError == 0) {
                return 0;
            }
            return scale == 0 ? Double.POSITIVE_INFINITY : maxAbsError / scale;
        }

        @Override
        public String toString() {
            return String.format("max |error| %.3g (%.3g of scale %.3g) at element %d: got %s, reference %s;"
                            + " bound %.3g; %d of %d elements outside", maxAbsError, maxRelativeError(), scale,
                    worstIndex, worstActual, worstExpected, bound, elementsOutside, count);
        }
    }
}
