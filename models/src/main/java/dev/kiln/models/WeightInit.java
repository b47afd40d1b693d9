package dev.kiln.models;

import dev.kiln.Tensor;

import java.util.Map;

/**
 * How a model builder fills its weights: {@link #seeded(long)} random values, reproducible from
 * the seed; {@link #ZEROS}, which skips the random generator for when only the structure
 * matters (parameter and MAC counts, shape checks); or {@link #fromTensors(Map)}, given
 * weights such as those of a PyTorch model.
 */
public sealed interface WeightInit permits WeightInit.Seeded, WeightInit.Zeros, WeightInit.FromTensors {

    /** Every tensor all zeros; fast, for structure-only uses. */
    WeightInit ZEROS = new Zeros();

    /**
     * Random weights drawn from per-tensor generators derived from {@code seed} and the tensor's
     * name, so the same model name and seed always give bit-identical weights.
     */
    static WeightInit seeded(long seed) {
        return new Seeded(seed);
    }

    /**
     * Every weight the builder creates taken from {@code tensors} by its name, which is the
     * PyTorch {@code state_dict} key ({@code layer1.0.conv1.weight}, {@code bn1.running_var}).
     * The graph gets its own copy of each; the caller keeps and closes the given tensors.
     * Building fails with an {@link IllegalArgumentException} naming the first weight that is
     * missing from the map or has another shape; tensors the model does not use are ignored.
     */
    static WeightInit fromTensors(Map<String, Tensor> tensors) {
        return new FromTensors(tensors);
    }

    record Seeded(long seed) implements WeightInit {
    }

    record Zeros() implements WeightInit {
    }

    /** Weights by name; see {@link #fromTensors(Map)}. */
    record FromTensors(Map<String, Tensor> tensors) implements WeightInit {
        public FromTensors {
            tensors = Map.copyOf(tensors);
        }
    }
}
