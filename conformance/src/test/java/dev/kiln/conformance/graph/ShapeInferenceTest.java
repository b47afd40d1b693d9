package dev.kiln.conformance.graph;

import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.GraphValidationException;
import dev.kiln.graph.Node;
import dev.kiln.graph.ShapeInference;
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
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.Lrn;
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

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Output shapes of every op, worked out from the op definitions, through GraphBuilder.build(). */
class ShapeInferenceTest {

    /** The output shape of a one-node graph whose operands are graph inputs of these shapes. */
    private static Shape outputOf(Op op, Shape... inputs) {
        return outputsOf(op, 1, inputs).getFirst();
    }

    private static List<Shape> outputsOf(Op op, int outputs, Shape... inputs) {
        OneNodeGraph model = OneNodeGraph.of(op).outputs(outputs);
        for (Shape s : inputs) {
            model.input(s);
        }
        try (Graph g = model.build()) {
            Map<String, Shape> shapes = ShapeInference.infer(g, g.inputShapesForBatch(1));
            return g.outputs().stream().map(shapes::get).toList();
        }
    }

    @Test
    void conv() {
        // ResNet stem: 224 -> (224 + 6 - 7) / 2 + 1 = 112.
        assertEquals(Shape.of(1, 64, 112, 112), outputOf(new Conv(Window.square(7, 2, 3), 1),
                Shape.of(1, 3, 224, 224), Shape.of(64, 3, 7, 7), Shape.of(64)));
        // Depthwise, no bias.
        assertEquals(Shape.of(2, 32, 56, 56), outputOf(new Conv(Window.square(3, 2, 1), 32),
                Shape.of(2, 32, 112, 112), Shape.of(32, 1, 3, 3)));
        // Groups 2: weights see half the input channels.
        assertEquals(Shape.of(1, 6, 5, 5), outputOf(new Conv(Window.of(1, 1), 2),
                Shape.of(1, 4, 5, 5), Shape.of(6, 2, 1, 1), Shape.of(6)));
        // auto_pad SAME keeps ceil(in / stride).
        assertEquals(Shape.of(1, 8, 4, 4), outputOf(
                new Conv(Window.of(3, 3).withStrides(2, 2).withAutoPad(Window.AutoPad.SAME_UPPER), 1),
                Shape.of(1, 3, 7, 7), Shape.of(8, 3, 3, 3)));
    }

    @Test
    void convWithResidualTakesItsShapeFromTheOutput() {
        Conv fused = new Conv(Window.square(3, 1, 1), 1,
                List.of(new PostOp.AddResidual(), new PostOp.Activate(ActivationFunction.RELU)));
        assertEquals("FusedConv", fused.type());
        assertEquals(Shape.of(1, 4, 8, 8), outputOf(fused,
                Shape.of(1, 4, 8, 8), Shape.of(4, 4, 3, 3), Shape.of(4), Shape.of(1, 4, 8, 8)));
    }

    @Test
    void batchNormalizationKeepsTheShape() {
        Shape c = Shape.of(16);
        assertEquals(Shape.of(2, 16, 7, 7),
                outputOf(new BatchNormalization(1e-5f), Shape.of(2, 16, 7, 7), c, c, c, c));
        assertEquals(Shape.of(3, 16), outputOf(new BatchNormalization(1e-5f), Shape.of(3, 16), c, c, c, c));
    }

    @Test
    void activationKeepsTheShape() {
        assertEquals(Shape.of(1, 2, 3), outputOf(new Activation(ActivationFunction.SILU), Shape.of(1, 2, 3)));
    }

    @Test
    void binaryBroadcasts() {
        assertEquals(Shape.of(2, 3), outputOf(Binary.ADD, Shape.of(2, 3), Shape.of(3)));
        assertEquals(Shape.of(2, 3), outputOf(Binary.ADD, Shape.of(2, 1), Shape.of(1, 3)));
        assertEquals(Shape.of(2, 2), outputOf(Binary.ADD, Shape.of(1), Shape.of(2, 2)));
        assertEquals(Shape.of(1, 32, 14, 14), outputOf(Binary.MUL, Shape.of(1, 32, 14, 14), Shape.of(1, 32, 1, 1)));
        assertEquals(Shape.of(2, 4, 3), outputOf(Binary.ADD, Shape.of(2, 1, 3), Shape.of(4, 1)));
    }

    @Test
    void concatAddsUpTheAxis() {
        // A GoogLeNet inception block: 64 + 128 + 32 + 32 channels.
        assertEquals(Shape.of(1, 256, 28, 28), outputOf(new Concat(1), Shape.of(1, 64, 28, 28),
                Shape.of(1, 128, 28, 28), Shape.of(1, 32, 28, 28), Shape.of(1, 32, 28, 28)));
        assertEquals(Shape.of(2, 5), outputOf(new Concat(-1), Shape.of(2, 2), Shape.of(2, 3)));
        assertEquals(Shape.of(3, 2), outputOf(new Concat(0), Shape.of(1, 2), Shape.of(2, 2)));
    }

    @Test
    void pools() {
        assertEquals(Shape.of(1, 64, 56, 56),
                outputOf(new MaxPool(Window.square(3, 2, 0), true), Shape.of(1, 64, 112, 112)));
        assertEquals(Shape.of(1, 64, 55, 55),
                outputOf(new MaxPool(Window.square(3, 2, 0), false), Shape.of(1, 64, 112, 112)));
        assertEquals(Shape.of(1, 480, 14, 14),
                outputOf(new MaxPool(Window.square(3, 1, 1), false), Shape.of(1, 480, 14, 14)));
        assertEquals(Shape.of(1, 1024, 1, 1),
                outputOf(new AveragePool(Window.square(7, 1, 0), false, false), Shape.of(1, 1024, 7, 7)));
        assertEquals(Shape.of(2, 1280, 1, 1), outputOf(GlobalPool.AVERAGE, Shape.of(2, 1280, 7, 7)));
        assertEquals(Shape.of(2, 8, 1, 1), outputOf(GlobalPool.MAX, Shape.of(2, 8, 3, 5)));
    }

    /** Found by kiln fuzz: a dilated max pool whose every tap fell in the padding (oneDNN and the reference disagreed). */
    @Test
    void aDilatedPoolWindowOverPaddingOnlyIsRefused() {
        Window skips = new Window(2, 2, 2, 2, 1, 1, 1, 1, 2, 2, Window.AutoPad.EXPLICIT);
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> outputOf(new MaxPool(skips, false), Shape.of(1, 1, 1, 1)));
        assertTrue(e.getMessage().contains("covers only padding"), e.getMessage());
        // The same window on an input it reaches is fine: one tap of each window lands on it.
        assertEquals(Shape.of(1, 1, 2, 2), outputOf(new MaxPool(skips, false), Shape.of(1, 1, 3, 3)));
    }

    @Test
    void gemm() {
        // VGG's first fully connected layer: [1, 25088] x [4096, 25088]^T.
        assertEquals(Shape.of(1, 4096), outputOf(Gemm.FULLY_CONNECTED, Shape.of(1, 25088), Shape.of(4096, 25088),
                Shape.of(4096)));
        assertEquals(Shape.of(3, 4), outputOf(new Gemm(1, 1, true, false), Shape.of(5, 3), Shape.of(5, 4)));
        assertEquals(Shape.of(3, 4), outputOf(new Gemm(1, 1, false, false), Shape.of(3, 5), Shape.of(5, 4),
                Shape.of(3, 1)));
    }

    @Test
    void matMul() {
        assertEquals(Shape.of(2, 4), outputOf(new MatMul(), Shape.of(2, 3), Shape.of(3, 4)));
        assertEquals(Shape.of(4), outputOf(new MatMul(), Shape.of(3), Shape.of(3, 4)));
        assertEquals(Shape.of(2), outputOf(new MatMul(), Shape.of(2, 3), Shape.of(3)));
        assertEquals(Shape.of(2, 3, 3, 5), outputOf(new MatMul(), Shape.of(2, 1, 3, 4), Shape.of(3, 4, 5)));
    }

    @Test
    void flattenAndReshape() {
        assertEquals(Shape.of(1, 25088), outputOf(new Flatten(1), Shape.of(1, 512, 7, 7)));
        assertEquals(Shape.of(1, 25088), outputOf(new Flatten(0), Shape.of(1, 512, 7, 7)));
        assertEquals(Shape.of(512, 49), outputOf(new Flatten(2), Shape.of(1, 512, 7, 7)));
        assertEquals(Shape.of(1, 25088), outputOf(new Reshape(0, -1), Shape.of(1, 512, 7, 7)));
        assertEquals(Shape.of(7, 3584), outputOf(new Reshape(7, -1), Shape.of(1, 512, 7, 7)));
        assertEquals(Shape.of(1, 512, 49), outputOf(new Reshape(0, 0, -1), Shape.of(1, 512, 7, 7)));
    }

    @Test
    void shapePreservingOps() {
        Shape s = Shape.of(2, 10, 3, 3);
        assertEquals(s, outputOf(new Softmax(1), s));
        assertEquals(s, outputOf(new Softmax(-1, true), s));
        assertEquals(s, outputOf(new Lrn(5, 1e-4f, 0.75f, 1f), s));
        assertEquals(s, outputOf(Passthrough.IDENTITY, s));
        assertEquals(List.of(s, s), outputsOf(Passthrough.DROPOUT, 2, s));
    }

    @Test
    void squeezeExcitationKeepsTheShape() {
        SqueezeExcitation se = new SqueezeExcitation(ActivationFunction.SILU, ActivationFunction.SIGMOID);
        assertEquals(Shape.of(1, 32, 14, 14), outputOf(se, Shape.of(1, 32, 14, 14), Shape.of(8, 32, 1, 1),
                Shape.of(32, 8, 1, 1), Shape.of(8), Shape.of(32)));
    }

    @Test
    void symbolicBatchTakesTheSizeGiven() {
        try (Graph g = OneNodeGraph.of(new Conv(Window.square(3, 1, 1), 1))
                .input(Shape.of(Shape.DYNAMIC, 3, 8, 8))
                .input(Shape.of(4, 3, 3, 3))
                .build()) {
            assertEquals(Shape.of(5, 4, 8, 8), g.inferShapes(g.inputShapesForBatch(5)).get("y"));
            assertEquals(Shape.of(1, 4, 8, 8), g.inferShapes(g.inputShapesForBatch(1)).get("y"));
        }
    }

    @Test
    void initializersHaveTheirOwnShapes() {
        GraphBuilder b = new GraphBuilder("weights");
        b.input("x", Shape.of(1, 2));
        b.initializer("w", Tensor.of(Shape.of(2, 3), 1, 2, 3, 4, 5, 6));
        b.add("mm", new MatMul(), "x", "w");
        b.output("mm");
        try (Graph g = b.build()) {
            Map<String, Shape> shapes = g.inferShapes(g.inputShapesForBatch(1));
            assertEquals(Shape.of(2, 3), shapes.get("w"));
            assertEquals(Shape.of(1, 3), shapes.get("mm"));
        }
    }

    @Test
    void shapesFlowThroughAChainInWhateverOrderNodesWereAdded() {
        GraphBuilder b = new GraphBuilder("chain");
        b.input("x", Shape.of(1, 3, 8, 8));
        b.initializer("w", Tensor.allocate(4, 3, 3, 3));
        // Added last-first: build() must order them.
        b.add("flat", new Flatten(1), "pool");
        b.add("pool", new MaxPool(Window.square(2, 2, 0), false), "conv");
        b.add("conv", new Conv(Window.square(3, 1, 1), 1), "x", "w");
        b.output("flat");
        try (Graph g = b.build()) {
            assertEquals(List.of("conv", "pool", "flat"), g.nodes().stream().map(Node::name).toList());
            assertEquals(Shape.of(1, 64), g.inferShapes(g.inputShapesForBatch(1)).get("flat"));
        }
    }

    @Test
    void anInputShapeThatContradictsTheDeclarationIsRefused() {
        try (Graph g = OneNodeGraph.of(Passthrough.IDENTITY).input(Shape.of(Shape.DYNAMIC, 3)).build()) {
            GraphValidationException e = assertThrows(GraphValidationException.class,
                    () -> g.inferShapes(Map.of("in0", Shape.of(2, 4))));
            assertTrue(e.getMessage().contains("'in0'") && e.getMessage().contains("[?, 3]")
                    && e.getMessage().contains("[2, 4]"), e.getMessage());
            GraphValidationException missing = assertThrows(GraphValidationException.class,
                    () -> g.inferShapes(Map.of()));
            assertTrue(missing.getMessage().contains("'in0'"), missing.getMessage());
        }
    }
}
