package dev.kiln.conformance.verify;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.GlobalPool;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The scale a value's rounding error is measured against: a difference of near-equal operands
 * keeps its operands' scale through the pointwise ops and poolings after it.
 */
class ErrorScalesTest {

    @Test
    void aCancellingSubKeepsItsOperandsScaleThroughPointwiseOpsAndPooling() {
        GraphBuilder b = new GraphBuilder("cancel");
        b.input("x", Shape.of(1, 2, 1, 1));
        b.input("y", Shape.of(1, 2, 1, 1));
        b.node(new Node("sub", new Binary(Binary.Kind.SUB), List.of("x", "y"), List.of("d")));
        b.node(new Node("relu", new Activation(ActivationFunction.RELU), List.of("d"), List.of("r")));
        b.node(new Node("pool", GlobalPool.AVERAGE, List.of("r"), List.of("p")));
        b.output("p");
        try (Graph g = b.build();
             Tensor x = Tensor.of(Shape.of(1, 2, 1, 1), 3f, -2f);
             Tensor y = Tensor.of(Shape.of(1, 2, 1, 1), 2.999f, -1.999f);
             Tensor d = Tensor.of(Shape.of(1, 2, 1, 1), 0.001f, -0.001f);
             Tensor r = Tensor.of(Shape.of(1, 2, 1, 1), 0.001f, 0f);
             Tensor p = Tensor.of(Shape.of(1, 2, 1, 1), 0.001f, 0f)) {
            Map<String, Double> scales = ValueTolerances.errorScales(g, Map.of("x", x, "y", y, "d", d, "r", r, "p", p));
            assertEquals(3 + 2.999, scales.get("d"), 1e-6, "the operands' scales, summed");
            assertEquals(3 + 2.999, scales.get("r"), 1e-6, "carried through a pointwise op");
            assertEquals(3 + 2.999, scales.get("p"), 1e-6, "a pooling carries its input's");
        }
    }
}
