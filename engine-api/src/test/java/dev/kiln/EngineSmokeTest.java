package dev.kiln;

import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Window;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class EngineSmokeTest {

    /** A 1x1 conv with weight 2 and bias -3, then ReLU: y = max(0, 2x - 3). */
    @Test
    void runsConvThenReluOnTheReferenceBackend() {
        GraphBuilder b = new GraphBuilder("tiny");
        b.input("x", Shape.of(Shape.DYNAMIC, 1, 2, 2));
        b.initializer("w", Tensor.of(Shape.of(1, 1, 1, 1), 2f));
        b.initializer("b", Tensor.of(Shape.of(1), -3f));
        b.add("conv", new Conv(Window.of(1, 1), 1), "x", "w", "b");
        b.add("relu", new Activation(ActivationFunction.RELU), "conv");
        b.output("relu");
        try (Graph g = b.build();
             CompiledModel model = Engine.create().compile(g, "reference");
             Tensor x = Tensor.of(Shape.of(2, 1, 2, 2), 0, 1, 2, 3, 4, 5, 6, 7);
             Tensor y = model.run(x)) {
            assertEquals(Shape.of(2, 1, 2, 2), y.shape());
            assertArrayEquals(new float[] {0, 0, 1, 3, 5, 7, 9, 11}, y.toFloatArray());
        }
    }
}
