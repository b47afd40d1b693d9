package dev.kiln.models;

import java.util.random.RandomGenerator;

/** The distribution a weight tensor's values are drawn from. */
sealed interface Distribution {

    float sample(RandomGenerator random);

    /** Gaussian with this mean and standard deviation. */
    record Normal(double mean, double std) implements Distribution {
        @Override
        public float sample(RandomGenerator random) {
            return (float) (mean + std * random.nextGaussian());
        }
    }

    /** Uniform over [low, high). */
    record Uniform(double low, double high) implements Distribution {
        public Uniform {
            if (!(low < high)) {
                throw new IllegalArgumentException("uniform range [" + low + ", " + high + ") is empty");
            }
        }

        @Override
        public float sample(RandomGenerator random) {
            return (float) random.nextDouble(low, high);
        }
    }

    /**
     * He (Kaiming) normal for a layer followed by ReLU-like activations: variance 2 / fan_in keeps
     * the second moment of activations roughly constant from layer to layer, so that even VGG,
     * which has no batch-norm, neither explodes nor vanishes.
     */
    static Distribution heNormal(long fanIn) {
        return new Normal(0, Math.sqrt(2.0 / fanIn));
    }
}
