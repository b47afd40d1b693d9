package dev.kiln.optimize;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.MatMul;
import dev.kiln.graph.ops.Reshape;
import dev.kiln.graph.ops.Transpose;
import dev.kiln.graph.ops.Window;
import org.junit.jupiter.api.Test;

import static dev.kiln.optimize.GraphFixtures.assertSameOutputs;
import static dev.kiln.optimize.GraphFixtures.counts;
import static dev.kiln.optimize.GraphFixtures.producer;
import static dev.kiln.optimize.GraphFixtures.runPass;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConstantFoldingTest {
    private final Pass pass = new ConstantFolding();

    /** Weights computed by a chain of nodes, as some exporters write them: (a + b) * c, reshaped. */
    @Test
    void foldsAChainOfConstantNodesIntoOneConstant() {
        float[] a = {1, 2, 3, 4, 5, 6, 7, 8};
        float[] b = {0.5f, -1, 2, 0, 1, 1, -3, 2};
        float[] c = {2, 2, 0.5f, 1, -1, 3, 1, 0.25f};
        GraphFixtures f = new GraphFixtures("chain", 1);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 4, 3, 3));
        f.builder().initializer("a", Tensor.of(Shape.of(8), a));
        f.builder().initializer("b", Tensor.of(Shape.of(8), b));
        f.builder().initializer("c", Tensor.of(Shape.of(8), c));
        String sum = f.add("sum", new Binary(Binary.Kind.ADD), "a", "b");
        String product = f.add("product", Binary.MUL, sum, "c");
        String w = f.add("w", new Reshape(2, 4, 1, 1), product);
        String conv = f.add("conv", new Conv(Window.of(1, 1), 1), "x", w);
        try (Graph g = f.build(conv)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("Conv", 1), report.opsAfter());
                assertEquals(3, report.rewrites().get(pass.name()));
                Tensor folded = opt.initializers().get(producer(opt, "conv").input(1));
                assertEquals(Shape.of(2, 4, 1, 1), folded.shape());
                float[] expected = new float[8];
                for (int i = 0; i < 8; i++) {
                    expected[i] = (a[i] + b[i]) * c[i];
                }
                assertArrayEquals(expected, folded.toFloatArray());
                assertSameOutputs(g, opt, 2);
            }
        }
    }

    @Test
    void aNodeThatWritesAGraphOutputIsNotFolded() {
        GraphFixtures f = new GraphFixtures("output", 2);
        f.builder().input("x", Shape.of(2));
        String r = f.add("relu", new Activation(ActivationFunction.RELU), f.weights("k", 4));
        String y = f.add("y", new Activation(ActivationFunction.RELU), "x");
        try (Graph g = f.build(y, r)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("Relu", 2), report.opsAfter());
            }
        }
    }

    /** An initializer named like a graph input is only its default: the caller may feed another value. */
    @Test
    void anInputWithADefaultValueIsNotAConstant() {
        GraphFixtures f = new GraphFixtures("default", 3);
        f.builder().input("scale", Shape.of(3));
        f.builder().initializer("scale", Tensor.of(Shape.of(3), 1, 2, 3));
        f.builder().input("x", Shape.of(3));
        String doubled = f.add("doubled", new Binary(Binary.Kind.ADD), "scale", "scale");
        String y = f.add("y", Binary.MUL, "x", doubled);
        try (Graph g = f.build(y)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("Add", 1, "Mul", 1), report.opsAfter());
                assertTrue(opt.initializers().containsKey("scale"));
            }
        }
    }

    /** PyTorch's bias-free Linear: x @ W^T with W stored [out, in], exported as Transpose(W) + MatMul. */
    @Test
    void foldsTheTransposeOfAConstantWeight() {
        float[] w = {1, 2, 3, 4, 5, 6}; // [out 2, in 3]
        GraphFixtures f = new GraphFixtures("linear", 4);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 3));
        f.builder().initializer("w", Tensor.of(Shape.of(2, 3), w));
        String wt = f.add("wt", new Transpose(new int[] {1, 0}), "w");
        String y = f.add("y", new MatMul(), "x", wt);
        try (Graph g = f.build(y)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("MatMul", 1), report.opsAfter());
                Tensor folded = opt.initializers().get(producer(opt, "y").input(1));
                assertEquals(Shape.of(3, 2), folded.shape());
                assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, folded.toFloatArray());
                assertSameOutputs(g, opt, 2);
            }
        }
    }
}
