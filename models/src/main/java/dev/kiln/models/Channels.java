package dev.kiln.models;

/** Channel-count rounding as torchvision does it. */
final class Channels {
    private Channels() {
    }

    /**
     * torchvision's {@code _make_divisible(v, divisor)} (from TensorFlow's slim MobileNet): the
     * nearest multiple of {@code divisor}, at least {@code divisor}, and never more than 10% below
     * {@code v}. Computed in double, as Python does, so that results agree at the boundaries.
     */
    static int makeDivisible(double v, int divisor) {
        int rounded = Math.max(divisor, (int) (v + divisor / 2.0) / divisor * divisor);
        return rounded < 0.9 * v ? rounded + divisor : rounded;
    }

    /**
     * The double a Python literal with this float's shortest decimal form would have: 0.35f is
     * 0.3499999940... as a double, but a user who writes 0.35 means what Python computes with
     * 0.35, so channel counts must be computed from the decimal.
     */
    static double decimal(float multiplier) {
        return Double.parseDouble(Float.toString(multiplier));
    }
}
