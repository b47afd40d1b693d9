package dev.kiln.optimize;

import dev.kiln.Shape;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static dev.kiln.optimize.GraphFixtures.assertSameOutputs;
import static dev.kiln.optimize.GraphFixtures.counts;
import static dev.kiln.optimize.GraphFixtures.runPass;
import static org.junit.jupiter.api.Assertions.assertEquals;

class DeadNodeEliminationTest {
    private final Pass pass = new DeadNodeElimination();

    @Test
    void removesBranchesThatReachNoOutputAndTheirWeights() {
        GraphFixtures f = new GraphFixtures("dead", 1);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 2, 4, 4));
        String live = f.conv("live", "x", 2, 3, 3, 1, true);
        String dead = f.conv("dead", "x", 2, 3, 3, 1, true);
        f.add("dead_relu", new Activation(ActivationFunction.RELU), dead); // reaches nothing either
        String out = f.add("out", new Activation(ActivationFunction.TANH), live);
        try (Graph g = f.build(out)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("Conv", 1, "Tanh", 1), report.opsAfter());
                assertEquals(2, report.rewrites().get(pass.name()));
                assertEquals(Set.of("live.w", "live.b"), opt.initializers().keySet());
                assertSameOutputs(g, opt, 2);
            }
        }
    }

    @Test
    void keepsEveryNodeThatFeedsAnyOutput() {
        GraphFixtures f = new GraphFixtures("all-live", 2);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 3));
        String a = f.add("a", new Activation(ActivationFunction.RELU), "x");
        String b = f.add("b", new Binary(Binary.Kind.ADD), a, f.weights("k", 3));
        try (Graph g = f.build(a, b)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("Relu", 1, "Add", 1), report.opsAfter());
                assertEquals(Set.of("k"), opt.initializers().keySet());
            }
        }
    }
}
