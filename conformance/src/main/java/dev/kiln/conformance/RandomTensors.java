package dev.kiln.conformance;

import dev.kiln.Shape;
import dev.kiln.Tensor;

import java.util.SplittableRandom;

/**
 * Seeded random tensors. The values of a tensor depend only on the seed and the tensor's name,
 * so a case regenerates the same data no matter in which order its tensors are created.
 */
public final class RandomTensors {
    private RandomTensors() {
    }

    /** Uniform values in [min, max). */
    public static Tensor uniform(Shape shape, long seed, String name, float min, float max) {
        if (!(max > min)) {
            throw new IllegalArgumentException("empty range [" + min + ", " + max + ") for tensor '" + name + "'");
        }
        SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
        float[] values = new float[shape.elementCountInt()];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (min + (max - min) * random.nextDouble());
        }
        return Tensor.of(shape, values);
    }
}
