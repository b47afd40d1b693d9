package dev.kiln.conformance.kernels;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.conformance.OneNodeGraph;
import dev.kiln.conformance.OneNodeGraph.Output;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static dev.kiln.testing.FloatAsserts.assertClose;
import static dev.kiln.testing.TestValues.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;

class GemmKernelTest {

    @Test
    void alphaScalesTheProductAndBetaTheBias() {
        // A B = [[1+3, 2+3], [4+6, 5+6]] = [[4, 5], [10, 11]]; then 2 A B + 0.5 [10, 20].
        Output y = OneNodeGraph.of(new Gemm(2f, 0.5f, false, false))
                .input(Shape.of(2, 3), 1, 2, 3, 4, 5, 6)
                .constant(Shape.of(3, 2), 1, 0, 0, 1, 1, 1)
                .constant(Shape.of(2), 10, 20)
                .run();
        assertEquals(Shape.of(2, 2), y.shape());
        assertClose(new float[] {13, 20, 25, 32}, y.values());
    }

    @Test
    void fullyConnectedLayerUsesTheWeightsTransposed() {
        // W is [N=2, K=3]: output j is the dot product of x with row j of W, plus bias j.
        Output y = OneNodeGraph.of(Gemm.FULLY_CONNECTED)
                .input(Shape.of(1, 3), 1, 2, 3)
                .constant(Shape.of(2, 3), 1, 1, 1, 0, -1, 2)
                .constant(Shape.of(2), 0.5f, -0.5f)
                .run();
        assertEquals(Shape.of(1, 2), y.shape());
        assertClose(new float[] {6.5f, 3.5f}, y.values());
    }

    /** Which C goes with a case: its shape, or null for none. */
    static Stream<Arguments> cases() {
        int m = 3, n = 4;
        return Stream.of(
                Arguments.of(false, false, null),
                Arguments.of(false, true, null),
                Arguments.of(true, false, null),
                Arguments.of(true, true, null),
                Arguments.of(false, false, Shape.of(n)),
                Arguments.of(false, true, Shape.of(1)),
                Arguments.of(true, false, Shape.of(m, 1)),
                Arguments.of(true, true, Shape.of(m, n)),
                Arguments.of(false, false, Shape.of(1, 1)),
                Arguments.of(false, true, Shape.of(1, n)));
    }

    @ParameterizedTest(name = "transA {0}, transB {1}, C {2}")
    @MethodSource("cases")
    void matchesTheDefinition(boolean transA, boolean transB, Shape cShape) {
        int m = 3, k = 5, n = 4;
        float alpha = 0.75f, beta = -1.5f;
        float[] a = uniform(m * k, 41), b = uniform(k * n, 42);
        float[] c = cShape == null ? null : uniform((int) cShape.elementCount(), 43);

        double[] expected = new double[m * n];
        int cRows = cShape == null || cShape.rank() < 2 ? 1 : cShape.dim(0);
        int cCols = cShape == null ? 1 : cShape.dim(-1);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    double av = transA ? a[p * m + i] : a[i * k + p];
                    double bv = transB ? b[j * k + p] : b[p * n + j];
                    sum += av * bv;
                }
                double bias = c == null ? 0 : c[(cRows == 1 ? 0 : i) * cCols + (cCols == 1 ? 0 : j)];
                expected[i * n + j] = alpha * sum + beta * bias;
            }
        }

        OneNodeGraph model = OneNodeGraph.of(new Gemm(alpha, beta, transA, transB))
                .input(transA ? Shape.of(k, m) : Shape.of(m, k), a)
                .constant(transB ? Shape.of(n, k) : Shape.of(k, n), b);
        if (c != null) {
            model.constant(cShape, c);
        }
        Output y = model.run();
        assertEquals(Shape.of(m, n), y.shape());
        assertClose(expected, y.values());
    }

    @Test
    void anAbsentCIsNoBias() {
        Output y = OneNodeGraph.of(new Gemm(1f, 1f, false, false))
                .input(Shape.of(1, 2), 1, 2)
                .constant(Shape.of(2, 1), 3, 4)
                .absent()
                .run();
        assertClose(new float[] {11}, y.values());
    }
}
