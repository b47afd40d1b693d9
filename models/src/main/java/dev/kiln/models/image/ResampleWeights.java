package dev.kiln.models.image;

/**
 * The weights of a one-dimensional resize from {@code inSize} samples to {@code outSize}: output
 * sample {@code i} is the weighted sum of the input samples {@code first[i]} to
 * {@code first[i] + weights[i].length - 1}. Applied along rows, then along columns, they resize
 * an image.
 *
 * <p>The filter is the one Pillow calls {@code BILINEAR}: a triangle of radius one input pixel
 * when enlarging (plain bilinear interpolation between pixel centres), widened to the scale factor
 * when shrinking, so that every input pixel contributes and a large photo does not alias. Near the
 * edges the weights that fall outside the image are dropped and the rest renormalised, as Pillow
 * does.
 */
final class ResampleWeights {
    private final int[] first;
    private final float[][] weights;

    private ResampleWeights(int[] first, float[][] weights) {
        this.first = first;
        this.weights = weights;
    }

    static ResampleWeights bilinear(int inSize, int outSize) {
        if (inSize < 1 || outSize < 1) {
            throw new IllegalArgumentException("cannot resize " + inSize + " samples to " + outSize);
        }
        double scale = (double) inSize / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = filterScale; // the triangle's radius is one pixel at filterScale 1
        int[] first = new int[outSize];
        float[][] weights = new float[outSize][];
        for (int i = 0; i < outSize; i++) {
            double centre = (i + 0.5) * scale;
            int from = Math.max(0, (int) (centre - support + 0.5));
            int to = Math.min(inSize, (int) (centre + support + 0.5));
            double[] w = new double[to - from];
            double sum = 0;
            for (int j = from; j < to; j++) {
                double distance = Math.abs(j + 0.5 - centre) / filterScale;
                w[j - from] = Math.max(0.0, 1.0 - distance);
                sum += w[j - from];
            }
            first[i] = from;
            weights[i] = new float[w.length];
            for (int k = 0; k < w.length; k++) {
                weights[i][k] = (float) (w[k] / sum);
            }
        }
        return new ResampleWeights(first, weights);
    }

    int outSize() {
        return first.length;
    }

    /** Output sample {@code i} of the input samples {@code data[offset + j * stride]}, j = 0..inSize-1. */
    float sample(float[] data, int offset, int stride, int i) {
        float[] w = weights[i];
        int index = offset + first[i] * stride;
        float sum = 0;
        for (float weight : w) {
            sum += weight * data[index];
            index += stride;
        }
        return sum;
    }
}
