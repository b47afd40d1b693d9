package dev.kiln.cpusimd;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Softmax;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.HostThreads;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

import java.util.function.Function;

import static dev.kiln.cpusimd.KernelHarness.check;
import static dev.kiln.cpusimd.KernelHarness.input;
import static dev.kiln.cpusimd.KernelHarness.uniform;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The harness itself: it must fail a kernel that is wrong only on small values, which a scale
 * floored at 1 let through (an absolute 1e-5 over outputs that are all far below 1).
 */
class KernelHarnessTest {

    /** Runs the real kernel, then multiplies one element of its (row-major) output by {@code factor}. */
    private record OneElementWrong(SimdKernel kernel, int element, float factor) implements SimdKernel {
        @Override
        public String algorithm() {
            return kernel.algorithm() + ", element " + element + " x" + factor;
        }

        @Override
        public long scratchFloats() {
            return kernel.scratchFloats();
        }

        @Override
        public void execute(float[][] inputs, float[][] outputs, float[] scratch, HostThreads threads) {
            kernel.execute(inputs, outputs, scratch, threads);
            outputs[0][element] *= factor;
        }
    }

    private static Function<BoundNode, SimdKernel> wrong(Function<BoundNode, SimdKernel> real, int element,
                                                         float factor) {
        return node -> new OneElementWrong(real.apply(node), element, factor);
    }

    /** The softmax entry of least magnitude, as the reference computes it. */
    private static int smallest(float[] values) {
        int at = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] < values[at]) {
                at = i;
            }
        }
        return at;
    }

    @Test
    void aSoftmaxTenTimesWrongOnItsSmallEntriesFails() {
        Softmax op = new Softmax(-1);
        Shape s = Shape.of(1, 1000);
        // Logits in [-6, 6): entries from about 1e-7 to 1e-2.
        KernelHarness.Operand x = input(s, uniform(1000, 11, -6, 6));
        float[] expected = KernelHarness.reference(op, x);
        int at = smallest(expected);
        // The case the floor hid: the error, 9x the smallest entry, is under the old absolute 1e-5.
        assertTrue(9 * expected[at] < 1e-5, "the smallest entry " + expected[at] + " is too large to show it");
        assertDoesNotThrow(() -> check(op, SoftmaxKernel::new, 1e-5, x));
        assertThrows(AssertionFailedError.class, () -> check(op, wrong(SoftmaxKernel::new, at, 10), 1e-5, x));
    }

    @Test
    void anOutputAtScaleOneInTenMillionWrongByAPercentFails() {
        Binary op = new Binary(Binary.Kind.MUL);
        Shape s = Shape.of(3, 37);
        // Products of magnitude up to 1e-7.
        KernelHarness.Operand a = input(s, uniform(3 * 37, 12, -1e-3f, 1e-3f));
        KernelHarness.Operand b = input(s, uniform(3 * 37, 13, -1e-4f, 1e-4f));
        float[] expected = KernelHarness.reference(op, a, b);
        int largest = 0;
        for (int i = 1; i < expected.length; i++) {
            largest = Math.abs(expected[i]) > Math.abs(expected[largest]) ? i : largest;
        }
        assertTrue(Math.abs(expected[largest]) < 1e-7, "the products are not at the 1e-7 scale");
        int at = largest;
        assertDoesNotThrow(() -> check(op, ElementwiseKernel::new, 1e-5, a, b));
        assertThrows(AssertionFailedError.class, () -> check(op, wrong(ElementwiseKernel::new, at, 1.01f), 1e-5, a, b));
    }

    @Test
    void anAllZeroReferenceAcceptsOnlyZeros() {
        float[] zeros = new float[8];
        float[] almost = new float[8];
        almost[5] = 1e-30f;
        assertDoesNotThrow(() -> KernelHarness.compare(zeros, zeros.clone(), 1e-5, "zeros"));
        assertThrows(AssertionFailedError.class, () -> KernelHarness.compare(zeros, almost, 1e-5, "zeros"));
    }

    @Test
    void aRoundingSizedDifferenceAtSmallScalePasses() {
        float[] expected = uniform(100, 14, -1e-7f, 1e-7f);
        float[] actual = expected.clone();
        for (int i = 0; i < actual.length; i++) {
            actual[i] = Math.nextUp(actual[i]);
        }
        assertDoesNotThrow(() -> KernelHarness.compare(expected, actual, 1e-5, "one ulp"));
    }
}
