package dev.kiln;

import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.Window;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A model whose image size is symbolic too: it compiles when inputs arrive, at any size. */
class SymbolicImageSizeTest {

    /** A 7x7 conv without padding: at the 1x1 size a naive "set every symbolic dim to 1" would pick, it cannot run. */
    private static Graph anySizeNet() {
        GraphBuilder b = new GraphBuilder("any-size");
        b.input("x", Shape.of(Shape.DYNAMIC, 1, Shape.DYNAMIC, Shape.DYNAMIC));
        float[] ones = new float[49];
        java.util.Arrays.fill(ones, 1f);
        b.initializer("w", Tensor.of(Shape.of(1, 1, 7, 7), ones));
        b.add("conv", new Conv(Window.of(7, 7), 1), "x", "w");
        b.add("pool", GlobalPool.AVERAGE, "conv");
        b.output("pool");
        return b.build();
    }

    @Test
    void compilesAndRunsAtEveryImageSizeItIsGiven() {
        try (Graph g = anySizeNet();
             CompiledModel model = Engine.withBackends(List.of(new ReferenceBackend())).compile(g, "auto")) {
            assertFalse(g.hasFixedShapesBesidesBatch());
            // Optimized for its fixed axes, without the pass that needs a concrete size, and the model says so.
            assertTrue(model.optimization().isPresent(), "an open image size is no reason to skip the optimizer");
            String skipped = model.optimizerSkipped().orElseThrow();
            assertTrue(skipped.contains("optimized for its fixed axes") && skipped.contains("pad-folding"), skipped);
            assertTrue(model.selectionExplanation().contains("symbolic"), model.selectionExplanation());
            for (int size : new int[] {7, 12}) {
                float[] ones = new float[2 * size * size];
                java.util.Arrays.fill(ones, 1f);
                try (Tensor x = Tensor.of(Shape.of(2, 1, size, size), ones); Tensor y = model.run(x)) {
                    assertEquals(Shape.of(2, 1, 1, 1), y.shape());
                    assertEquals(49f, y.get(0)); // every 7x7 window of ones sums to 49
                }
            }
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> model.planForBatch(1));
            assertTrue(e.getMessage().contains("'x'"), e.getMessage());
        }
    }

    /**
     * A classifier whose flatten and fully connected layer fix the image size though the input
     * says it is open: the optimizer's probe sizes do not infer, so it runs as written, saying why.
     */
    @Test
    void aGraphWhoseShapesDoNotInferAtTheProbeSizesRunsUnoptimizedAndSaysWhy() {
        GraphBuilder b = new GraphBuilder("fixed-head");
        b.input("x", Shape.of(Shape.DYNAMIC, 1, Shape.DYNAMIC, Shape.DYNAMIC));
        b.initializer("w", Tensor.of(Shape.of(1, 4), new float[] {1, 2, 3, 4}));
        b.add("flatten", new Flatten(1), "x");
        b.add("fc", Gemm.FULLY_CONNECTED, "flatten", "w");
        b.output("fc");
        try (Graph g = b.build();
             CompiledModel model = Engine.withBackends(List.of(new ReferenceBackend())).compile(g, "reference")) {
            assertTrue(model.optimization().isEmpty());
            String skipped = model.optimizerSkipped().orElseThrow();
            assertTrue(skipped.contains("runs unoptimized") && skipped.contains("open beyond the batch")
                    && skipped.contains("224x"), skipped);
            try (Tensor x = Tensor.of(Shape.of(1, 1, 2, 2), new float[] {1, 1, 1, 1}); Tensor y = model.run(x)) {
                assertEquals(10f, y.get(0)); // the one size it takes still runs
            }
        }
    }

    @Test
    void anOptimizerTurnedOffIsNoSkip() {
        try (Graph g = anySizeNet();
             CompiledModel model = Engine.withBackends(List.of(new ReferenceBackend()))
                     .compile(g, new CompileOptions("reference", false))) {
            assertTrue(model.optimizerSkipped().isEmpty());
        }
    }
}
