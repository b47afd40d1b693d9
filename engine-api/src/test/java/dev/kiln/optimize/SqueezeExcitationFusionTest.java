package dev.kiln.optimize;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphValidationException;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.SqueezeExcitation;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.kiln.optimize.GraphFixtures.assertSameOutputs;
import static dev.kiln.optimize.GraphFixtures.counts;
import static dev.kiln.optimize.GraphFixtures.producer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pattern is recognised after activation fusion, so these tests run activation fusion and
 * squeeze-excitation fusion together, on the graphs as exporters write them.
 */
class SqueezeExcitationFusionTest {
    private final Optimizer optimizer = new Optimizer(List.of(new ActivationFusion(),
            new SqueezeExcitationFusion(), new DeadNodeElimination()));

    /** EfficientNet's block: SiLU written as x * Sigmoid(x), the gate a Sigmoid, x times the gate. */
    @Test
    void fusesTheEfficientNetBlockIntoOneNode() {
        GraphFixtures f = new GraphFixtures("se", 1);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 8, 5, 5));
        String pooled = f.add("pool", GlobalPool.AVERAGE, "x");
        String squeezed = f.conv("reduce", pooled, 8, 2, 1, 1, true);
        String sig = f.add("reduce_sigmoid", new Activation(ActivationFunction.SIGMOID), squeezed);
        String silu = f.add("reduce_silu", Binary.MUL, squeezed, sig);
        String expanded = f.conv("expand", silu, 2, 8, 1, 1, true);
        String gate = f.add("gate", new Activation(ActivationFunction.SIGMOID), expanded);
        String y = f.add("scale", Binary.MUL, "x", gate);
        try (Graph g = f.build(y)) {
            OptimizationReport report = optimizer.optimize(g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("SqueezeExcitation", 1), report.opsAfter());
                Node se = producer(opt, "scale");
                assertEquals(new SqueezeExcitation(ActivationFunction.SILU, ActivationFunction.SIGMOID), se.op());
                assertEquals(List.of("x", "reduce.w", "expand.w", "reduce.b", "expand.b"), se.inputs());
                assertSameOutputs(g, opt, 3);
                // The fused kernel computes in the unfused chain's order, so not even the last bit moves.
                Map<String, Tensor> inputs = GraphFixtures.randomInputs(g, 2, 7);
                try {
                    assertArrayEquals(GraphFixtures.run(g, inputs).getFirst(), GraphFixtures.run(opt, inputs).getFirst());
                } finally {
                    inputs.values().forEach(Tensor::close);
                }
            }
        }
    }

    /** MobileNet v3's variant: Relu and HardSigmoid, gate first in the Mul, convs without bias. */
    @Test
    void fusesTheReluHardSigmoidVariantWithoutBiases() {
        GraphFixtures f = new GraphFixtures("se-hard", 2);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 6, 3, 4));
        String pooled = f.add("pool", GlobalPool.AVERAGE, "x");
        String squeezed = f.conv("reduce", pooled, 6, 3, 1, 1, false);
        String relu = f.add("relu", new Activation(ActivationFunction.RELU), squeezed);
        String expanded = f.conv("expand", relu, 3, 6, 1, 1, false);
        String gate = f.add("gate", new Activation(ActivationFunction.hardSigmoid(0.2f, 0.5f)), expanded);
        String y = f.add("scale", Binary.MUL, gate, "x");
        try (Graph g = f.build(y)) {
            OptimizationReport report = optimizer.optimize(g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("SqueezeExcitation", 1), report.opsAfter());
                assertEquals(List.of("x", "reduce.w", "expand.w"), producer(opt, "scale").inputs());
                assertSameOutputs(g, opt, 2);
            }
        }
    }

    @Test
    void aPooledValueReadElsewhereKeepsTheBlockUnfused() {
        GraphFixtures f = new GraphFixtures("se-shared", 3);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 4, 3, 3));
        String pooled = f.add("pool", GlobalPool.AVERAGE, "x");
        String squeezed = f.conv("reduce", pooled, 4, 2, 1, 1, true);
        String relu = f.add("relu", new Activation(ActivationFunction.RELU), squeezed);
        String expanded = f.conv("expand", relu, 2, 4, 1, 1, true);
        String gate = f.add("gate", new Activation(ActivationFunction.SIGMOID), expanded);
        String y = f.add("scale", Binary.MUL, "x", gate);
        try (Graph g = f.build(y, pooled)) {
            OptimizationReport report = optimizer.optimize(g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("GlobalAveragePool", 1, "FusedConv", 2, "Mul", 1), report.opsAfter());
            }
        }
    }

    @Test
    void theOpRejectsExcitationWeightsThatDoNotMatchTheChannels() {
        GraphFixtures f = new GraphFixtures("se-bad", 4);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 4, 3, 3));
        String w1 = f.weights("w1", 2, 4, 1, 1);
        String w2 = f.weights("w2", 3, 2, 1, 1);
        f.add("se", new SqueezeExcitation(ActivationFunction.RELU, ActivationFunction.SIGMOID), "x", w1, w2);
        GraphValidationException e = assertThrows(GraphValidationException.class, () -> f.build("se"));
        assertTrue(e.getMessage().contains("excitation weights must be [4, 2, 1, 1]"), e.getMessage());
    }
}
