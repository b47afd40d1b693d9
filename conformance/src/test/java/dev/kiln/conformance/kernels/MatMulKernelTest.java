package dev.kiln.conformance.kernels;

import dev.kiln.Shape;
import dev.kiln.graph.ops.MatMul;
import dev.kiln.conformance.OneNodeGraph;
import dev.kiln.conformance.OneNodeGraph.Output;
import org.junit.jupiter.api.Test;

import static dev.kiln.testing.FloatAsserts.assertClose;
import static dev.kiln.testing.TestValues.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;

class MatMulKernelTest {

    @Test
    void matrixTimesMatrix() {
        Output y = matmul(Shape.of(2, 2), new float[] {1, 2, 3, 4}, Shape.of(2, 2), new float[] {5, 6, 7, 8});
        assertEquals(Shape.of(2, 2), y.shape());
        assertClose(new float[] {19, 22, 43, 50}, y.values());
    }

    @Test
    void rectangularMatrices() {
        // [1, 3] x [3, 2]
        Output y = matmul(Shape.of(1, 3), new float[] {1, 2, 3}, Shape.of(3, 2), new float[] {1, 4, 2, 5, 3, 6});
        assertEquals(Shape.of(1, 2), y.shape());
        assertClose(new float[] {14, 32}, y.values());
    }

    @Test
    void vectorTimesMatrixDropsThePromotedAxis() {
        Output y = matmul(Shape.of(2), new float[] {1, 2}, Shape.of(2, 2), new float[] {5, 6, 7, 8});
        assertEquals(Shape.of(2), y.shape());
        assertClose(new float[] {19, 22}, y.values());
    }

    @Test
    void matrixTimesVectorDropsThePromotedAxis() {
        Output y = matmul(Shape.of(2, 2), new float[] {1, 2, 3, 4}, Shape.of(2), new float[] {5, 6});
        assertEquals(Shape.of(2), y.shape());
        assertClose(new float[] {17, 39}, y.values());
    }

    @Test
    void vectorTimesVectorIsAScalar() {
        Output y = matmul(Shape.of(3), new float[] {1, 2, 3}, Shape.of(3), new float[] {4, 5, 6});
        assertEquals(Shape.of(), y.shape());
        assertClose(new float[] {32}, y.values());
    }

    @Test
    void batchedWithBroadcastBatchAxes() {
        // [2, 1, 3, 4] x [3, 4, 5] -> [2, 3, 3, 5]: out[i][j] = A[i][0] x B[j].
        float[] a = uniform(2 * 3 * 4, 51), b = uniform(3 * 4 * 5, 52);
        double[] expected = new double[2 * 3 * 3 * 5];
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 3; j++) {
                for (int r = 0; r < 3; r++) {
                    for (int c = 0; c < 5; c++) {
                        double sum = 0;
                        for (int p = 0; p < 4; p++) {
                            sum += (double) a[(i * 3 + r) * 4 + p] * b[(j * 4 + p) * 5 + c];
                        }
                        expected[((i * 3 + j) * 3 + r) * 5 + c] = sum;
                    }
                }
            }
        }
        Output y = matmul(Shape.of(2, 1, 3, 4), a, Shape.of(3, 4, 5), b);
        assertEquals(Shape.of(2, 3, 3, 5), y.shape());
        assertClose(expected, y.values());
    }

    @Test
    void batchOfMatricesTimesOneSharedMatrix() {
        // [2, 1, 2] x [2, 1]: each of the two rows times the same column.
        Output y = matmul(Shape.of(2, 1, 2), new float[] {1, 2, 3, 4}, Shape.of(2, 1), new float[] {10, 1});
        assertEquals(Shape.of(2, 1, 1), y.shape());
        assertClose(new float[] {12, 34}, y.values());
    }

    private static Output matmul(Shape aShape, float[] a, Shape bShape, float[] b) {
        return OneNodeGraph.of(new MatMul()).input(aShape, a).constant(bShape, b).run();
    }
}
