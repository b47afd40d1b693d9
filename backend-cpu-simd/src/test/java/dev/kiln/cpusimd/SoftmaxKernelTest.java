package dev.kiln.cpusimd;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Softmax;
import org.junit.jupiter.api.Test;

import static dev.kiln.cpusimd.KernelHarness.check;
import static dev.kiln.cpusimd.KernelHarness.input;
import static dev.kiln.cpusimd.KernelHarness.uniform;

class SoftmaxKernelTest {

    private static void softmax(Softmax op, Shape s, float range, long seed) {
        check(op, SoftmaxKernel::new, 1e-5, input(s, uniform(KernelHarness.count(s), seed, -range, range)));
    }

    @Test
    void lastAxisOfRowMajorValues() {
        softmax(new Softmax(-1), Shape.of(1, 1000), 10, 1);
        softmax(new Softmax(1), Shape.of(5, 37), 3, 2);
        softmax(new Softmax(1), Shape.of(3, 7), 1, 3);
        softmax(new Softmax(2), Shape.of(2, 3, 21), 1, 4);
    }

    @Test
    void largeLogitsDoNotOverflow() {
        softmax(new Softmax(-1), Shape.of(2, 100), 200, 5);
    }

    @Test
    void opsetOneToTwelveFormFlattensFromTheAxis() {
        softmax(new Softmax(1, true), Shape.of(2, 3, 5), 2, 6);
    }

    @Test
    void channelsOfABlockedGlobalPoolOutput() {
        softmax(new Softmax(1), Shape.of(3, 35, 1, 1), 4, 7);
        softmax(new Softmax(1, true), Shape.of(1, 20, 1, 1), 4, 8);
    }
}
