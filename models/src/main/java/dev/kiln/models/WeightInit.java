package dev.kiln.models;

/**
 * How a model builder fills its weights: {@link #seeded(long)} random values, reproducible from
 * the seed, or {@link #ZEROS}, which skips the random generator for when only the structure
 * matters (parameter and MAC counts, shape checks).
 */
public sealed interface WeightInit permits WeightInit.Seeded, WeightInit.Zeros {

    /** Every tensor all zeros; fast, for structure-only uses. */
    WeightInit ZEROS = new Zeros();

    /**
     * Random weights drawn from per-tensor generators derived from {@code seed} and the tensor's
     * name, so the same model name and seed always give bit-identical weights.
     */
    static WeightInit seeded(long seed) {
        return new Seeded(seed);
    }

    record Seeded(long seed) implements WeightInit {
    }

    record Zeros() implements WeightInit {
    }
}
