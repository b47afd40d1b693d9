package dev.kiln.models;

import dev.kiln.Shape;
import dev.kiln.Tensor;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Creates weight tensors for a {@link WeightInit}. Each seeded tensor has its own generator,
 * derived from the seed and the tensor's name, so its values do not depend on which tensors
 * were created before it.
 */
final class Weights {
    /** Values are generated into a heap chunk of this many floats and copied into the tensor in bulk. */
    private static final int CHUNK = 1 << 16;

    private Weights() {
    }

    static Tensor create(WeightInit init, String name, Shape shape, Distribution distribution) {
        return switch (init) {
            case WeightInit.Zeros zeros -> ZeroTensors.create(shape);
            case WeightInit.FromTensors(var tensors) -> NamedWeights.copy(tensors, name, shape);
            case WeightInit.Seeded(long seed) -> {
                Tensor tensor = Tensor.allocate(shape);
                fill(tensor, new SplittableRandom(streamSeed(seed, name)), distribution);
                yield tensor;
            }
        };
    }

    private static void fill(Tensor tensor, SplittableRandom random, Distribution distribution) {
        long count = tensor.elementCount();
        float[] chunk = new float[(int) Math.min(CHUNK, count)];
        for (long offset = 0; offset < count; offset += chunk.length) {
            int n = (int) Math.min(chunk.length, count - offset);
            for (int i = 0; i < n; i++) {
                chunk[i] = distribution.sample(random);
            }
            tensor.copyFrom(chunk, 0, offset, n);
        }
    }

    /** FNV-1a over the name's UTF-8 bytes, started from the mixed seed, then mixed again. */
    static long streamSeed(long seed, String name) {
        long h = mix64(seed);
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return mix64(h);
    }

    /** The MurmurHash3 64-bit finalizer: spreads every input bit over the whole word. */
    private static long mix64(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }
}
