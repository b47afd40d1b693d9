package dev.kiln.optimize;

import dev.kiln.Shape;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.PostOp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static dev.kiln.optimize.GraphFixtures.assertSameOutputs;
import static dev.kiln.optimize.GraphFixtures.counts;
import static dev.kiln.optimize.GraphFixtures.producer;
import static dev.kiln.optimize.GraphFixtures.runPass;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ActivationFusionTest {
    private final Pass pass = new ActivationFusion();

    static List<ActivationFunction> activations() {
        return List.of(ActivationFunction.RELU, ActivationFunction.RELU6, ActivationFunction.clip(-0.25f, 0.5f),
                ActivationFunction.SIGMOID, ActivationFunction.hardSigmoid(0.2f, 0.5f), ActivationFunction.HARD_SWISH,
                ActivationFunction.leakyRelu(0.1f), ActivationFunction.TANH, ActivationFunction.SILU);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("activations")
    void fusesTheActivationAfterAConvIntoItsEpilogue(ActivationFunction function) {
        GraphFixtures f = new GraphFixtures("conv-act", 1);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 3, 5, 5));
        String c = f.conv("conv", "x", 3, 4, 3, 1, true);
        String a = f.add("act", new Activation(function), c);
        try (Graph g = f.build(a)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("FusedConv", 1), report.opsAfter());
                assertEquals(List.of(new PostOp.Activate(function)), ((Conv) producer(opt, "act").op()).postOps());
                assertSameOutputs(g, opt, 2);
            }
        }
    }

    /** x * Sigmoid(x), as PyTorch exports SiLU, with the conv output on either side of the Mul. */
    @ParameterizedTest(name = "conv output as Mul input {0}")
    @ValueSource(ints = {0, 1})
    void fusesSiluWrittenAsMulOfSigmoid(int convOperand) {
        GraphFixtures f = new GraphFixtures("silu", 2);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 3, 5, 5));
        String c = f.conv("conv", "x", 3, 4, 3, 1, true);
        String s = f.add("sigmoid", new Activation(ActivationFunction.SIGMOID), c);
        String m = convOperand == 0 ? f.add("mul", Binary.MUL, c, s) : f.add("mul", Binary.MUL, s, c);
        try (Graph g = f.build(m)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("FusedConv", 1), report.opsAfter());
                assertEquals(List.of(new PostOp.Activate(ActivationFunction.SILU)),
                        ((Conv) producer(opt, "mul").op()).postOps());
                assertEquals(2, report.rewrites().get(pass.name()), "SiLU recognised, then fused");
                assertSameOutputs(g, opt, 2);
            }
        }
    }

    @Test
    void siluAfterAnythingElseBecomesOneSiluNode() {
        GraphFixtures f = new GraphFixtures("silu-alone", 3);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 8));
        f.builder().input("y", Shape.of(Shape.DYNAMIC, 8));
        String sum = f.add("sum", new Binary(Binary.Kind.ADD), "x", "y");
        String s = f.add("sigmoid", new Activation(ActivationFunction.SIGMOID), sum);
        String m = f.add("mul", Binary.MUL, s, sum);
        String other = f.add("other", new Activation(ActivationFunction.TANH), sum); // sum has a third reader
        try (Graph g = f.build(m, other)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("Add", 1, "SiLU", 1, "Tanh", 1), report.opsAfter());
                assertSameOutputs(g, opt, 2);
            }
        }
    }

    @Test
    void aSigmoidThatIsAlsoReadElsewhereIsNotPartOfASilu() {
        GraphFixtures f = new GraphFixtures("sigmoid-shared", 4);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 8));
        String s = f.add("sigmoid", new Activation(ActivationFunction.SIGMOID), "x");
        String m = f.add("mul", Binary.MUL, "x", s);
        try (Graph g = f.build(m, s)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("Sigmoid", 1, "Mul", 1), report.opsAfter());
            }
        }
    }

    @Test
    void chainedActivationsFuseInOrder() {
        GraphFixtures f = new GraphFixtures("chain", 5);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 2, 4, 4));
        String c = f.conv("conv", "x", 2, 3, 1, 1, true);
        String r = f.add("leaky", new Activation(ActivationFunction.leakyRelu(0.3f)), c);
        String clip = f.add("clip", new Activation(ActivationFunction.clip(-0.1f, 0.4f)), r);
        try (Graph g = f.build(clip)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(List.of(new PostOp.Activate(ActivationFunction.leakyRelu(0.3f)),
                                new PostOp.Activate(ActivationFunction.clip(-0.1f, 0.4f))),
                        ((Conv) producer(opt, "clip").op()).postOps());
                assertSameOutputs(g, opt, 2);
            }
        }
    }

    /** VGG's classifier: fully connected, Relu, fully connected, Relu. */
    @Test
    void activationsAfterAGemmFuseIntoIt() {
        GraphFixtures f = new GraphFixtures("classifier", 7);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 12));
        f.weights("w1", 10, 12);
        f.weights("b1", 10);
        f.weights("w2", 6, 10);
        String fc1 = f.add("fc1", Gemm.FULLY_CONNECTED, "x", "w1", "b1");
        String r1 = f.add("relu1", new Activation(ActivationFunction.RELU), fc1);
        String fc2 = f.add("fc2", Gemm.FULLY_CONNECTED, r1, "w2");
        String r2 = f.add("hswish", new Activation(ActivationFunction.HARD_SWISH), fc2);
        try (Graph g = f.build(r2)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("FusedGemm", 2), report.opsAfter());
                assertEquals(List.of(new PostOp.Activate(ActivationFunction.HARD_SWISH)),
                        ((Gemm) producer(opt, "hswish").op()).postOps());
                assertSameOutputs(g, opt, 3);
            }
        }
    }

    @Test
    void aConvWhoseOutputIsReadElsewhereOrIsAGraphOutputKeepsItsActivationSeparate() {
        GraphFixtures f = new GraphFixtures("unfusable", 6);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 2, 4, 4));
        String c1 = f.conv("conv1", "x", 2, 2, 1, 1, true);
        String r1 = f.add("relu1", new Activation(ActivationFunction.RELU), c1);
        String sum = f.add("sum", new Binary(Binary.Kind.ADD), c1, r1); // conv1 read twice
        String c2 = f.conv("conv2", sum, 2, 2, 1, 1, true);
        String r2 = f.add("relu2", new Activation(ActivationFunction.RELU), c2);
        try (Graph g = f.build(r2, c2)) { // conv2's output is a graph output
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("Conv", 2, "Relu", 2, "Add", 1), report.opsAfter());
                assertEquals(0, report.rewrites().get(pass.name()));
            }
        }
    }
}
