package dev.kiln.cpusimd;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Concat;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static dev.kiln.cpusimd.KernelHarness.check;
import static dev.kiln.cpusimd.KernelHarness.input;
import static dev.kiln.cpusimd.KernelHarness.uniform;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConcatKernelTest {

    private static void concat(int axis, Shape... shapes) {
        KernelHarness.Operand[] operands = new KernelHarness.Operand[shapes.length];
        for (int i = 0; i < shapes.length; i++) {
            operands[i] = input(shapes[i], uniform(KernelHarness.count(shapes[i]), 10L * axis + i));
        }
        check(new Concat(axis), ConcatKernel::new, 0, operands);
    }

    private static Shape features(int batch, int channels) {
        return Shape.of(batch, channels, 7, 9);
    }

    @Test
    void channelsInWholeBlocksAreCopiedAsRuns() {
        concat(1, features(1, 16), features(1, 32), features(1, 20));
        concat(1, features(3, 32), features(3, 16));
    }

    @Test
    void channelsAtUnalignedOffsetsAreGathered() {
        concat(1, features(1, 20), features(1, 35), features(1, 7));
        concat(1, features(3, 5), features(3, 3), features(3, 16), features(3, 1));
        concat(-3, Shape.of(2, 20, 1, 1), Shape.of(2, 12, 1, 1));
    }

    @Test
    void otherAxesOfBlockedValues() {
        concat(0, features(1, 20), features(2, 20));
        concat(2, Shape.of(2, 35, 3, 9), Shape.of(2, 35, 4, 9));
        concat(-1, Shape.of(2, 20, 7, 2), Shape.of(2, 20, 7, 5));
    }

    @Test
    void rowMajorValues() {
        concat(1, Shape.of(3, 37), Shape.of(3, 5));
        concat(0, Shape.of(3, 37), Shape.of(1, 37));
        concat(1, Shape.of(2, 3, 5), Shape.of(2, 1, 5));
    }

    @Test
    void algorithmSaysWhichPathRuns() {
        // The first input ends mid-block at every vector width, so its successor must be gathered.
        Shape a = features(1, BlockedLayout.LANES + 3), b = features(1, 12);
        java.util.List<Shape> shapes = java.util.List.of(a, b);
        Concat op = new Concat(1);
        var node = new dev.kiln.spi.BoundNode(new dev.kiln.graph.Node("n", op, java.util.List.of("a", "b"),
                java.util.List.of("y")), shapes, op.inferShapes(shapes), Arrays.asList(null, null));
        assertTrue(new ConcatKernel(node).algorithm().contains("gather"));
    }
}
