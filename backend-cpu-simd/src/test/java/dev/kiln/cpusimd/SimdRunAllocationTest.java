package dev.kiln.cpusimd;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.SqueezeExcitation;
import dev.kiln.graph.ops.Window;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Once warm, a cpu-simd run allocates no activation memory and boxes no vectors: heap bytes per
 * run stay at a few kilobytes of bookkeeping. A vector kernel stuck in C1-compiled code, or a
 * vector passed through a call C2 did not inline, allocates on every operation, so this also
 * catches the slow path TOOLCHAIN.md warns about.
 */
class SimdRunAllocationTest {
    private static final int CHANNELS = 32, SIZE = 28, RUNS = 20;
    /** Bookkeeping per run: tasks and regions of the thread pool, output tensors; an activation is 400 KB. */
    private static final long LIMIT = 64 * 1024;

    /** An MBConv block as EfficientNet has it: expand, depthwise with SiLU, squeeze-excitation, project, add. */
    private static Graph mbConv() {
        SplittableRandom random = new SplittableRandom(3);
        GraphBuilder b = new GraphBuilder("mbconv");
        b.input("x", Shape.of(Shape.DYNAMIC, CHANNELS, SIZE, SIZE));
        int expanded = CHANNELS * 4;
        b.initializer("we", weights(random, expanded, CHANNELS, 1));
        b.initializer("wd", weights(random, expanded, 1, 3));
        b.initializer("w1", weights(random, 8, expanded, 1));
        b.initializer("w2", weights(random, expanded, 8, 1));
        b.initializer("wp", weights(random, CHANNELS, expanded, 1));
        List<PostOp> silu = List.of(new PostOp.Activate(ActivationFunction.SILU));
        String e = b.add("expand", new Conv(Window.of(1, 1), 1, silu), "x", "we");
        String d = b.add("depthwise", new Conv(Window.square(3, 1, 1), expanded, silu), e, "wd");
        String s = b.add("se", new SqueezeExcitation(ActivationFunction.SILU, ActivationFunction.SIGMOID), d, "w1", "w2");
        String p = b.add("project", new Conv(Window.of(1, 1), 1, List.of(new PostOp.AddResidual())), s, "wp", "", "x");
        b.output(p);
        return b.build();
    }

    private static Tensor weights(SplittableRandom random, int out, int in, int k) {
        float[] v = new float[out * in * k * k];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextGaussian() * 0.1);
        }
        return Tensor.of(Shape.of(out, in, k, k), v);
    }

    @Test
    void warmRunsAllocateOnlyBookkeeping() {
        try (Graph g = mbConv();
             CompiledModel model = Engine.withBackends(List.of(new CpuSimdBackend(), new ReferenceBackend()))
                     .compile(g, CpuSimdBackend.ID);
             Tensor x = Tensor.allocate(1, CHANNELS, SIZE, SIZE)) {
            assertEquals(List.of(CpuSimdBackend.ID), model.placements().stream().map(p -> p.backend()).distinct()
                    .toList());
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long activationBytes = (long) CHANNELS * 4 * SIZE * SIZE * Float.BYTES;
            // Rounds of runs until one allocates only bookkeeping, for up to a minute: C2 compiles
            // in the background and a slower machine gets there later, but a kernel stuck in C1
            // code or boxing its vectors never does.
            long deadline = System.nanoTime() + 60_000_000_000L;
            long perRun;
            int rounds = 0;
            do {
                for (int i = 0; i < 200; i++) {
                    model.run(x).close();
                }
                long before = threads.getTotalThreadAllocatedBytes();
                for (int i = 0; i < RUNS; i++) {
                    model.run(x).close();
                }
                perRun = (threads.getTotalThreadAllocatedBytes() - before) / RUNS;
                rounds++;
            } while (perRun >= LIMIT && System.nanoTime() < deadline);
            System.out.printf("cpu-simd heap bytes per warm run: %d after %d rounds of %d runs (one expanded activation:"
                    + " %d)%n", perRun, rounds, 200 + RUNS, activationBytes);
            assertTrue(perRun < LIMIT, "a warm run allocated " + perRun + " heap bytes");
        }
    }

    /**
     * With bound outputs nothing is left but the hand-over of the run to a pool thread and one
     * task lambda per parallel loop: no output tensors, maps, loop regions or queue nodes.
     */
    @Test
    void warmBoundRunsAllocateAlmostNothing() {
        try (Graph g = mbConv();
             CompiledModel model = Engine.withBackends(List.of(new CpuSimdBackend(), new ReferenceBackend()))
                     .compile(g, CpuSimdBackend.ID);
             Tensor x = Tensor.allocate(1, CHANNELS, SIZE, SIZE);
             Tensor y = Tensor.allocate(1, CHANNELS, SIZE, SIZE)) {
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long limit = 4096; // measured 1.1-1.7 KB; allocating outputs, or a region per loop, is several times that
            long deadline = System.nanoTime() + 60_000_000_000L;
            long perRun;
            do {
                for (int i = 0; i < 200; i++) {
                    model.run(x, y);
                }
                long before = threads.getTotalThreadAllocatedBytes();
                for (int i = 0; i < RUNS; i++) {
                    model.run(x, y);
                }
                perRun = (threads.getTotalThreadAllocatedBytes() - before) / RUNS;
            } while (perRun >= limit && System.nanoTime() < deadline);
            System.out.printf("cpu-simd heap bytes per warm run with a bound output: %d%n", perRun);
            assertTrue(perRun < limit, "a warm bound run allocated " + perRun + " heap bytes");
        }
    }
}
