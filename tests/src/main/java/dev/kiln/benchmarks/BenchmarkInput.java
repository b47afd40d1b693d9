package dev.kiln.benchmarks;

import dev.kiln.Shape;

import java.util.SplittableRandom;

/** The input every benchmark feeds both engines: standard normal values, seed 42. */
final class BenchmarkInput {
    private BenchmarkInput() {
    }

    static float[] standardNormal(Shape shape) {
        SplittableRandom random = new SplittableRandom(42);
        float[] values = new float[shape.elementCountInt()];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
