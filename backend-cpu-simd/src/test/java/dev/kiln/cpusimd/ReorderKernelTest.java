package dev.kiln.cpusimd;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.Op;
import dev.kiln.graph.ops.Passthrough;
import dev.kiln.graph.ops.Reshape;
import org.junit.jupiter.api.Test;

import static dev.kiln.cpusimd.KernelHarness.check;
import static dev.kiln.cpusimd.KernelHarness.input;
import static dev.kiln.cpusimd.KernelHarness.uniform;

class ReorderKernelTest {

    private static void reorder(Op op, Shape s, long seed) {
        check(op, ReorderKernel::new, 0, input(s, uniform(KernelHarness.count(s), seed)));
    }

    @Test
    void flattenOfAFeatureMapIsInNchwOrder() {
        reorder(new Flatten(1), Shape.of(3, 35, 7, 9), 1);
        reorder(new Flatten(1), Shape.of(1, 20, 5, 5), 2);
        reorder(new Flatten(1), Shape.of(2, 20, 1, 1), 3);
        reorder(new Flatten(0), Shape.of(2, 17, 3, 2), 4);
        reorder(new Reshape(3, -1), Shape.of(3, 35, 7, 9), 5);
    }

    @Test
    void rowMajorToBlocked() {
        reorder(new Reshape(3, 20, 1, 1), Shape.of(3, 20), 6);
        reorder(new Reshape(2, 35, 3, 3), Shape.of(2, 315), 7);
    }

    @Test
    void copiesWithinALayout() {
        reorder(Passthrough.IDENTITY, Shape.of(3, 35, 7, 9), 8);
        reorder(new Reshape(6, -1), Shape.of(3, 4, 10), 9);
        reorder(new Flatten(1), Shape.of(2, 3, 5), 10);
    }
}
