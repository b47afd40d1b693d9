package dev.kiln.onednn;

import dev.kiln.CancelHandle;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.RunCancelledException;
import dev.kiln.RunOptions;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A onednn run stopped by its options (before its partition, or between two primitives on the
 * oneDNN thread, whichever the timeout meets) throws {@link RunCancelledException}; the run state
 * it leaves is discarded (its workspace finished and closed) and the next run, on a fresh one,
 * computes what a run never stopped computes.
 */
class OneDnnStopTest {
    private static final int CHANNELS = 32, SIZE = 56;

    @Test
    void aStoppedRunLeavesTheModelComputingTheSame() {
        SplittableRandom random = new SplittableRandom(3);
        GraphBuilder b = new GraphBuilder("onednn-conv-stack");
        b.input("x", Shape.of(1, CHANNELS, SIZE, SIZE));
        String v = "x";
        for (int i = 0; i < 6; i++) {
            float[] w = new float[CHANNELS * CHANNELS * 9];
            for (int k = 0; k < w.length; k++) {
                w[k] = (float) random.nextGaussian() * 0.08f;
            }
            b.initializer("w" + i, Tensor.of(Shape.of(CHANNELS, CHANNELS, 3, 3), w));
            v = b.add("conv" + i, new Conv(Window.square(3, 1, 1), 1, List.of(new PostOp.Activate(
                    ActivationFunction.RELU))), v, "w" + i);
        }
        b.output(v);
        float[] pixels = new float[CHANNELS * SIZE * SIZE];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (float) random.nextGaussian();
        }
        try (Graph g = b.build();
             CompiledModel model = Engine.withBackends(List.of(new OneDnnBackend(), new ReferenceBackend()))
                     .compile(g, OneDnnBackend.ID);
             Tensor x = Tensor.of(Shape.of(1, CHANNELS, SIZE, SIZE), pixels);
             Tensor y = Tensor.allocate(1, CHANNELS, SIZE, SIZE)) {
            assertEquals(OneDnnBackend.ID, model.backend());
            float[] expected;
            try (Tensor first = model.run(x)) {
                expected = first.toFloatArray();
            }
            Map<String, Tensor> in = Map.of("x", x), out = Map.of(v, y);
            for (Duration timeout : List.of(Duration.ofNanos(1), Duration.ofMillis(1), Duration.ofMillis(3))) {
                try {
                    model.run(in, out, RunOptions.NONE.withTimeout(timeout));
                } catch (RunCancelledException e) {
                    assertEquals(true, e.timedOut(), e.getMessage());
                }
                model.run(in, out);
                assertArrayEquals(expected, y.toFloatArray(), "after a run with a timeout of " + timeout);
            }
            CancelHandle cancelled = new CancelHandle();
            cancelled.cancel();
            assertThrows(RunCancelledException.class, () -> model.run(in, out, RunOptions.NONE
                    .withCancellation(cancelled)));
            model.run(in, out);
            assertArrayEquals(expected, y.toFloatArray(), "after a cancelled run");
        }
    }
}
