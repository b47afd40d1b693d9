package dev.kiln.parity;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.models.ModelSpec;
import dev.kiln.models.Models;
import dev.kiln.models.WeightInit;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link WeightInit#fromTensors}: weights by state_dict name, copied, with errors that name the tensor. */
class WeightInitFromTensorsTest {
    /** The smallest MobileNet v1: every kind of weight (conv, batch-norm, fully connected), built in milliseconds. */
    private static final ModelSpec SMALL = Models.byName("mobilenet_v1_0.25_128");
    private static final String CONV = "features.1.3.weight";

    @Test
    void takesEveryWeightByNameAsACopy() {
        try (Graph source = SMALL.build(7);
             Graph built = SMALL.build(WeightInit.fromTensors(source.initializers()))) {
            assertEquals(source.initializers().keySet(), built.initializers().keySet());
            source.initializers().forEach((name, given) -> {
                Tensor taken = built.initializers().get(name);
                assertNotSame(given, taken, name + " must be a copy: the graph closes its own weights");
                assertArrayEquals(given.toFloatArray(), taken.toFloatArray(), name);
            });
        }
    }

    @Test
    void givenTensorsStayOpenAfterTheBuiltGraphCloses() {
        try (Graph source = SMALL.build(7)) {
            SMALL.build(WeightInit.fromTensors(source.initializers())).close();
            assertFalse(source.initializers().get(CONV).isClosed());
        }
    }

    @Test
    void missingWeightIsNamedWithItsShape() {
        try (Graph source = SMALL.build(7)) {
            Map<String, Tensor> tensors = new HashMap<>(source.initializers());
            Tensor removed = tensors.remove(CONV);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SMALL.build(WeightInit.fromTensors(tensors)).close());
            assertTrue(e.getMessage().contains("'" + CONV + "'") && e.getMessage().contains(removed.shape().toString()),
                    e.getMessage());
        }
    }

    @Test
    void misshapenWeightIsNamedWithBothShapes() {
        try (Graph source = SMALL.build(7);
             Tensor transposed = Tensor.allocate(Shape.of(8, 16, 1, 1))) {
            Shape needed = source.initializers().get(CONV).shape();
            assertEquals(Shape.of(16, 8, 1, 1), needed, "the test's premise: a 1x1 conv from 8 to 16 channels");
            Map<String, Tensor> tensors = new HashMap<>(source.initializers());
            tensors.put(CONV, transposed);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SMALL.build(WeightInit.fromTensors(tensors)).close());
            String message = e.getMessage();
            assertTrue(message.contains("'" + CONV + "'") && message.contains(transposed.shape().toString())
                    && message.contains(needed.toString()), message);
        }
    }
}
