package dev.kiln.cli;

import dev.kiln.Shape;
import dev.kiln.Tensor;

import java.util.Random;

/** Reproducible stand-ins for images: every element drawn from normal(0, 1). */
final class RandomInput {
    private RandomInput() {
    }

    /** A new tensor (the caller closes it); the same shape and seed give the same values on every JVM. */
    static Tensor normal(Shape shape, long seed) {
        // java.util.Random's Gaussian is specified exactly, so the input does not depend on the JDK.
        Random random = new Random(seed);
        float[] values = new float[shape.elementCountInt()];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return Tensor.of(shape, values);
    }
}
