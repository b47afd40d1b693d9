package dev.kiln.cli;

/** How far an output is from the reference output, relative to the reference's largest magnitude. */
final class RelativeError {
    private RelativeError() {
    }

    /**
     * {@code max |y - ref| / max |ref|}; the plain {@code max |y - ref|} when the reference is all
     * zeros, and infinity when any value of {@code y} is not finite.
     */
    static double max(float[] y, float[] ref) {
        if (y.length != ref.length) {
            throw new IllegalArgumentException("outputs of " + y.length + " and " + ref.length
                    + " values cannot be compared");
        }
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < y.length; i++) {
            if (!Float.isFinite(y[i])) {
                return Double.POSITIVE_INFINITY;
            }
            maxDiff = Math.max(maxDiff, Math.abs((double) y[i] - ref[i]));
            maxRef = Math.max(maxRef, Math.abs((double) ref[i]));
        }
        return maxRef == 0 ? maxDiff : maxDiff / maxRef;
    }
}
