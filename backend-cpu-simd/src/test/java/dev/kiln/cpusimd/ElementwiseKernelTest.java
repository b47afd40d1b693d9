package dev.kiln.cpusimd;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.BatchNormalization;
import dev.kiln.graph.ops.Binary;
import dev.kiln.spi.BoundNode;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.kiln.cpusimd.KernelHarness.check;
import static dev.kiln.cpusimd.KernelHarness.constant;
import static dev.kiln.cpusimd.KernelHarness.input;
import static dev.kiln.cpusimd.KernelHarness.uniform;
import static org.junit.jupiter.api.Assertions.assertNotNull;

class ElementwiseKernelTest {
    private static final Shape FEATURES = Shape.of(3, 20, 7, 9);
    private static final Binary.Kind[] ARITHMETIC = {Binary.Kind.ADD, Binary.Kind.SUB, Binary.Kind.MUL, Binary.Kind.DIV};

    private static float[] values(Shape s, long seed) {
        return uniform(KernelHarness.count(s), seed);
    }

    /** Divisors away from zero, so that the relative error of a quotient stays small. */
    private static float[] divisors(Shape s, long seed) {
        return uniform(KernelHarness.count(s), seed, 0.5f, 1.5f);
    }

    @Test
    void everyActivationOnBlockedAndRowMajorValues() {
        long seed = 1;
        for (ActivationFunction f : DepthwiseConvKernelTest.EVERY_ACTIVATION) {
            for (Shape s : List.of(FEATURES, Shape.of(1, 35, 3, 5), Shape.of(3, 37), Shape.of(5))) {
                check(new Activation(f), ElementwiseKernel::new, 1e-5, input(s, values(s, seed++)));
            }
        }
    }

    @Test
    void arithmeticOnSameShapes() {
        long seed = 100;
        for (Binary.Kind kind : ARITHMETIC) {
            for (Shape s : List.of(FEATURES, Shape.of(1, 35, 7, 9), Shape.of(4, 37), Shape.of(2, 3, 5))) {
                check(new Binary(kind), ElementwiseKernel::new, 1e-5, input(s, values(s, seed++)),
                        input(s, divisors(s, seed++)));
                check(new Binary(kind), ElementwiseKernel::new, 1e-5, input(s, values(s, seed++)),
                        constant(s, divisors(s, seed++)));
            }
        }
    }

    @Test
    void arithmeticWithPerChannelAndScalarOperands() {
        long seed = 200;
        Shape channel = Shape.of(1, 20, 1, 1), perImage = Shape.of(3, 20, 1, 1);
        for (Binary.Kind kind : ARITHMETIC) {
            Binary op = new Binary(kind);
            check(op, ElementwiseKernel::new, 1e-5, input(FEATURES, values(FEATURES, seed++)),
                    input(channel, divisors(channel, seed++)));
            check(op, ElementwiseKernel::new, 1e-5, input(FEATURES, values(FEATURES, seed++)),
                    constant(channel, divisors(channel, seed++)));
            check(op, ElementwiseKernel::new, 1e-5, input(FEATURES, values(FEATURES, seed++)),
                    input(perImage, divisors(perImage, seed++)));
            check(op, ElementwiseKernel::new, 1e-5, input(FEATURES, values(FEATURES, seed++)),
                    constant(Shape.of(20, 1, 1), divisors(Shape.of(20, 1, 1), seed++)));
            // The broadcast operand first: the order matters for SUB and DIV.
            check(op, ElementwiseKernel::new, 1e-5, input(channel, values(channel, seed++)),
                    input(FEATURES, divisors(FEATURES, seed++)));
            check(op, ElementwiseKernel::new, 1e-5, input(FEATURES, values(FEATURES, seed++)),
                    constant(Shape.of(1), new float[] {0.75f}));
            check(op, ElementwiseKernel::new, 1e-5, constant(Shape.of(), new float[] {3f}),
                    input(FEATURES, divisors(FEATURES, seed++)));
            check(op, ElementwiseKernel::new, 1e-5, input(Shape.of(3, 37), values(Shape.of(3, 37), seed++)),
                    input(Shape.of(1, 1), new float[] {1.25f}));
        }
    }

    @Test
    void batchNormOnBlockedAndRowMajorValues() {
        long seed = 300;
        for (Shape s : List.of(FEATURES, Shape.of(1, 35, 7, 9), Shape.of(3, 37), Shape.of(2, 20, 6))) {
            int c = s.dim(1);
            check(new BatchNormalization(1e-3f), ElementwiseKernel::new, 1e-5, input(s, values(s, seed++)),
                    constant(Shape.of(c), uniform(c, seed++)), constant(Shape.of(c), uniform(c, seed++)),
                    constant(Shape.of(c), uniform(c, seed++)), constant(Shape.of(c), uniform(c, seed++, 0.1f, 2f)));
        }
    }

    @Test
    void refusesBroadcastsItDoesNotBuild() {
        Shape a = Shape.of(1, 20, 7, 9), b = Shape.of(1, 20, 7, 1);
        List<Shape> shapes = List.of(a, b);
        BoundNode node = new BoundNode(new dev.kiln.graph.Node("n", Binary.ADD, List.of("a", "b"), List.of("y")),
                shapes, Binary.ADD.inferShapes(shapes), java.util.Arrays.asList(null, null));
        assertNotNull(ElementwiseKernel.unsupportedReason(node));
    }
}
