package dev.kiln.cpusimd;

import dev.kiln.spi.PreparedWeights;
import dev.kiln.Shape;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.SqueezeExcitation;
import org.junit.jupiter.api.Test;

import static dev.kiln.cpusimd.KernelHarness.absent;
import static dev.kiln.cpusimd.KernelHarness.check;
import static dev.kiln.cpusimd.KernelHarness.constant;
import static dev.kiln.cpusimd.KernelHarness.input;
import static dev.kiln.cpusimd.KernelHarness.uniform;

class SqueezeExcitationKernelTest {

    private static void run(SqueezeExcitation op, int batch, int channels, int reduced, int height, int width,
                            boolean biases, long seed) {
        Shape xs = Shape.of(batch, channels, height, width);
        check(op, n -> new SqueezeExcitationKernel(n, PreparedWeights.unshared()), 1e-5,
                input(xs, uniform(KernelHarness.count(xs), seed)),
                constant(Shape.of(reduced, channels, 1, 1), uniform(reduced * channels, seed + 1)),
                constant(Shape.of(channels, reduced, 1, 1), uniform(channels * reduced, seed + 2)),
                biases ? constant(Shape.of(reduced), uniform(reduced, seed + 3)) : absent(),
                biases ? constant(Shape.of(channels), uniform(channels, seed + 4)) : absent());
    }

    @Test
    void efficientNetStyleSiluAndSigmoid() {
        SqueezeExcitation se = new SqueezeExcitation(ActivationFunction.SILU, ActivationFunction.SIGMOID);
        run(se, 1, 35, 8, 7, 9, true, 1);
        run(se, 3, 20, 5, 7, 9, false, 2);
        // Several groups of four blocks and of four rows, with tails, at every vector width.
        run(se, 2, 136, 7, 3, 5, true, 5);
    }

    @Test
    void mobileNetV3StyleReluAndHardSigmoid() {
        SqueezeExcitation se = new SqueezeExcitation(ActivationFunction.RELU, ActivationFunction.hardSigmoid(0.2f, 0.5f));
        run(se, 2, 48, 12, 5, 5, true, 3);
        run(se, 1, 20, 3, 1, 1, true, 4);
    }
}
