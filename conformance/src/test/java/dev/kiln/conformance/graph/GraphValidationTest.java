package dev.kiln.conformance.graph;

import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.GraphValidationException;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.AveragePool;
import dev.kiln.graph.ops.BatchNormalization;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Concat;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.MatMul;
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.Op;
import dev.kiln.graph.ops.Passthrough;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Reshape;
import dev.kiln.graph.ops.Softmax;
import dev.kiln.graph.ops.SqueezeExcitation;
import dev.kiln.graph.ops.Window;
import dev.kiln.conformance.OneNodeGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GraphBuilder.build() refuses malformed graphs with a GraphValidationException that says where. */
class GraphValidationTest {

    /** Builds a one-node graph named "bad" with inputs of these shapes and expects a refusal. */
    private static String refused(Op op, Shape... inputs) {
        OneNodeGraph model = OneNodeGraph.of(op).nodeName("bad");
        for (Shape s : inputs) {
            model.input(s);
        }
        String message = assertRefused(() -> model.build().close());
        assertTrue(message.contains("node 'bad' (" + op.type() + ")"), "names the node: " + message);
        return message;
    }

    private static String assertRefused(Executable build) {
        return assertThrows(GraphValidationException.class, build).getMessage();
    }

    private static void assertMentions(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "expected '" + p + "' in: " + message);
        }
    }

    // Shape rules, one per op.

    @Test
    void convWhoseWeightsExpectOtherChannels() {
        String m = refused(new Conv(Window.square(3, 1, 1), 1), Shape.of(1, 3, 8, 8), Shape.of(8, 4, 3, 3));
        assertMentions(m, "3 channels", "[8, 4, 3, 3]");
    }

    @Test
    void convWithGroupsThatDoNotDivideTheChannels() {
        refused(new Conv(Window.square(3, 1, 1), 2), Shape.of(1, 3, 8, 8), Shape.of(4, 1, 3, 3));
    }

    @Test
    void convWithOutputChannelsThatDoNotDivideIntoGroups() {
        refused(new Conv(Window.square(3, 1, 1), 2), Shape.of(1, 4, 8, 8), Shape.of(3, 2, 3, 3));
    }

    @Test
    void convWithBiasOfTheWrongLength() {
        String m = refused(new Conv(Window.square(3, 1, 1), 1), Shape.of(1, 3, 8, 8), Shape.of(8, 3, 3, 3),
                Shape.of(7));
        assertMentions(m, "bias", "[8]", "[7]");
    }

    @Test
    void convWhoseWeightsDoNotMatchTheKernel() {
        refused(new Conv(Window.square(3, 1, 1), 1), Shape.of(1, 3, 8, 8), Shape.of(8, 3, 5, 5));
    }

    @Test
    void convOnANonImage() {
        refused(new Conv(Window.of(1, 1), 1), Shape.of(3, 8), Shape.of(8, 3, 1, 1));
    }

    @Test
    void convKernelLargerThanThePaddedInput() {
        // 5x5 with pad 1 on a 2x2 image: 2 + 2 < 5.
        String m = refused(new Conv(Window.square(5, 1, 1), 1), Shape.of(1, 1, 2, 2), Shape.of(1, 1, 5, 5));
        assertMentions(m, "does not fit");
    }

    @Test
    void poolKernelLargerThanTheInput() {
        refused(new MaxPool(Window.square(3, 2, 0), false), Shape.of(1, 1, 2, 2));
    }

    @Test
    void residualOfTheWrongShape() {
        Conv fused = new Conv(Window.square(3, 1, 1), 1, List.of(new PostOp.AddResidual()));
        String m = refused(fused, Shape.of(1, 4, 8, 8), Shape.of(4, 4, 3, 3), Shape.of(4), Shape.of(1, 4, 4, 4));
        assertMentions(m, "residual", "[1, 4, 8, 8]", "[1, 4, 4, 4]");
    }

    @Test
    void batchNormParameterOfTheWrongLength() {
        Shape c = Shape.of(16);
        refused(new BatchNormalization(1e-5f), Shape.of(1, 16, 4, 4), c, c, Shape.of(15), c);
    }

    @Test
    void concatOfDifferentRanks() {
        String m = refused(new Concat(1), Shape.of(1, 2, 4, 4), Shape.of(1, 2, 4));
        assertMentions(m, "rank");
    }

    @Test
    void concatOfInputsThatDifferOffTheAxis() {
        String m = refused(new Concat(1), Shape.of(1, 2, 4, 4), Shape.of(1, 3, 4, 5));
        assertMentions(m, "[1, 2, 4, 4]", "[1, 3, 4, 5]");
    }

    @Test
    void concatAxisOutOfRange() {
        refused(new Concat(4), Shape.of(1, 2, 4, 4), Shape.of(1, 2, 4, 4));
    }

    @Test
    void gemmWithDifferentInnerDimensions() {
        String m = refused(Gemm.FULLY_CONNECTED, Shape.of(1, 512), Shape.of(10, 256));
        assertMentions(m, "inner");
    }

    @Test
    void gemmBiasThatDoesNotBroadcast() {
        refused(Gemm.FULLY_CONNECTED, Shape.of(1, 512), Shape.of(10, 512), Shape.of(9));
    }

    @Test
    void matMulWithDifferentInnerDimensions() {
        refused(new MatMul(), Shape.of(2, 3), Shape.of(4, 5));
    }

    @Test
    void addOfShapesThatDoNotBroadcast() {
        String m = refused(Binary.ADD, Shape.of(2, 3), Shape.of(4));
        assertMentions(m, "[2, 3]", "[4]", "broadcast");
    }

    @Test
    void reshapeWithTwoInferredDimensions() {
        String m = refused(new Reshape(-1, -1), Shape.of(2, 6));
        assertMentions(m, "-1");
    }

    @Test
    void reshapeToTheWrongNumberOfElements() {
        String m = refused(new Reshape(5, 5), Shape.of(2, 6));
        assertMentions(m, "25", "12");
    }

    @Test
    void reshapeWhoseInferredDimensionDoesNotDivide() {
        refused(new Reshape(5, -1), Shape.of(2, 6));
    }

    @Test
    void reshapeWithAllowZeroCannotInferBesideAZero() {
        refused(new Reshape(new int[] {0, -1}, true), Shape.of(2, 6));
    }

    @Test
    void flattenAxisOutOfRange() {
        refused(new Flatten(5), Shape.of(2, 6));
    }

    @Test
    void softmaxAxisOutOfRange() {
        refused(new Softmax(2), Shape.of(2, 6));
    }

    @Test
    void squeezeExcitationWeightsThatDoNotMatchTheChannels() {
        SqueezeExcitation se = new SqueezeExcitation(ActivationFunction.RELU, ActivationFunction.SIGMOID);
        String m = refused(se, Shape.of(1, 32, 14, 14), Shape.of(8, 32, 1, 1), Shape.of(16, 8, 1, 1));
        assertMentions(m, "[32, 8, 1, 1]", "[16, 8, 1, 1]");
    }

    @Test
    void averagePoolWithDilations() {
        // The reference kernel averages contiguous windows; a dilated window used to pass shape
        // inference and then average the wrong positions.
        String m = refused(new AveragePool(Window.of(2, 2).withDilations(2, 2), false, false), Shape.of(1, 1, 4, 4));
        assertMentions(m, "dilation");
    }

    // Arity.

    @Test
    void tooFewInputs() {
        String m = refused(new Conv(Window.of(1, 1), 1), Shape.of(1, 3, 4, 4));
        assertMentions(m, "takes 2 to 3 inputs, got 1");
    }

    @Test
    void tooManyInputs() {
        String m = refused(Binary.ADD, Shape.of(2), Shape.of(2), Shape.of(2));
        assertMentions(m, "takes 2 inputs, got 3");
    }

    @Test
    void aRequiredInputLeftEmpty() {
        GraphBuilder b = new GraphBuilder("g");
        b.input("x", Shape.of(1, 3, 4, 4));
        b.node("conv", new Conv(Window.of(1, 1), 1), List.of("x", ""), List.of("y"));
        b.output("y");
        String m = assertRefused(b::build);
        assertMentions(m, "node 'conv'", "missing required input 1");
    }

    /** Found by the model-file fuzzer: such a node made Graph.macs fail with a NullPointerException. */
    @Test
    void aNodeWhoseFirstOutputHasNoName() {
        GraphBuilder b = new GraphBuilder("g");
        b.input("x", Shape.of(2));
        b.node("relu", new Activation(ActivationFunction.RELU), List.of("x"), List.of(""));
        b.output("x");
        assertMentions(assertRefused(b::build), "node 'relu'", "no name for its first output");
    }

    @Test
    void aNodeWithoutOutputs() {
        GraphBuilder b = new GraphBuilder("g");
        b.input("x", Shape.of(2));
        b.node("relu", new Activation(ActivationFunction.RELU), List.of("x"), List.of());
        b.output("x");
        assertMentions(assertRefused(b::build), "node 'relu'", "0 outputs");
    }

    @Test
    void aNodeWithTooManyOutputs() {
        GraphBuilder b = new GraphBuilder("g");
        b.input("x", Shape.of(2));
        b.node("drop", Passthrough.DROPOUT, List.of("x"), List.of("y", "mask", "extra"));
        b.output("y");
        assertMentions(assertRefused(b::build), "node 'drop'", "3 outputs");
    }

    // Structure.

    @Test
    void aDanglingInputNamesTheValueAndTheNode() {
        GraphBuilder b = new GraphBuilder("g");
        b.input("x", Shape.of(2));
        b.add("sum", Binary.ADD, "x", "nowhere");
        b.output("sum");
        assertMentions(assertRefused(b::build), "node 'sum' (Add)", "'nowhere'");
    }

    @Test
    void aValueWrittenByTwoNodes() {
        GraphBuilder b = new GraphBuilder("g");
        b.input("x", Shape.of(2));
        b.node("first", Passthrough.IDENTITY, List.of("x"), List.of("y"));
        b.node("second", new Activation(ActivationFunction.RELU), List.of("x"), List.of("y"));
        b.output("y");
        assertMentions(assertRefused(b::build), "'y'", "twice", "node 'first'", "node 'second'");
    }

    @Test
    void aNodeOverwritingAGraphInput() {
        GraphBuilder b = new GraphBuilder("g");
        b.input("x", Shape.of(2));
        b.node("relu", new Activation(ActivationFunction.RELU), List.of("x"), List.of("x"));
        b.output("x");
        assertMentions(assertRefused(b::build), "'x'", "twice", "graph input", "node 'relu'");
    }

    @Test
    void anInitializerGivenTwice() {
        GraphBuilder b = new GraphBuilder("g");
        try (Tensor first = Tensor.of(Shape.of(1), 1f); Tensor second = Tensor.of(Shape.of(1), 2f)) {
            b.initializer("w", first);
            assertMentions(assertRefused(() -> b.initializer("w", second)), "'w'", "twice");
        }
    }

    @Test
    void aCycleNamesItsNodes() {
        GraphBuilder b = new GraphBuilder("loop");
        b.input("x", Shape.of(2));
        b.add("a", Binary.ADD, "x", "b");
        b.add("b", new Activation(ActivationFunction.RELU), "a");
        b.add("out", Passthrough.IDENTITY, "b");
        b.output("out");
        String message = assertRefused(b::build);
        assertMentions(message, "cycle", "'a'", "'b'");
        assertFalse(message.contains("'out'"), "'out' only reads the cycle: " + message);
    }

    @Test
    void aNodeReadingItsOwnOutputIsACycle() {
        GraphBuilder b = new GraphBuilder("self");
        b.input("x", Shape.of(2));
        b.add("acc", Binary.ADD, "x", "acc");
        b.output("acc");
        assertMentions(assertRefused(b::build), "cycle", "'acc'");
    }

    @Test
    void aGraphWithoutOutputs() {
        GraphBuilder b = new GraphBuilder("nothing");
        b.input("x", Shape.of(2));
        b.add("relu", new Activation(ActivationFunction.RELU), "x");
        assertMentions(assertRefused(b::build), "'nothing'", "no outputs");
    }

    @Test
    void anOutputNothingDefines() {
        GraphBuilder b = new GraphBuilder("g");
        b.input("x", Shape.of(2));
        b.add("relu", new Activation(ActivationFunction.RELU), "x");
        b.output("rleu");
        assertMentions(assertRefused(b::build), "output 'rleu'", "not defined");
    }

    @Test
    void aShapeErrorDeepInAGraphNamesThatNode() {
        GraphBuilder b = new GraphBuilder("g");
        b.input("x", Shape.of(1, 3, 8, 8));
        b.initializer("w", Tensor.allocate(4, 3, 3, 3));
        b.add("conv", new Conv(Window.square(3, 1, 1), 1), "x", "w");
        b.add("pool", new MaxPool(Window.square(2, 2, 0), false), "conv");
        b.add("skip", Binary.ADD, "pool", "conv"); // [1, 4, 4, 4] + [1, 4, 8, 8]
        b.output("skip");
        String m = assertRefused(b::build);
        assertMentions(m, "node 'skip' (Add)", "[1, 4, 4, 4]", "[1, 4, 8, 8]");
    }
}
