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
        Tensor t = Tensor.allocate(shape);
        float[] chunk = new float[1 << 16]; // filled in chunks: a tensor may hold more than an array can
        for (long at = 0, count = shape.elementCount(); at < count; at += chunk.length) {
            int n = (int) Math.min(chunk.length, count - at);
            for (int i = 0; i < n; i++) {
                chunk[i] = (float) random.nextGaussian();
            }
            t.copyFrom(chunk, 0, at, n);
        }
        return t;
    }
}
