package dev.kiln.runtime;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Window;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A compiled model allocates its activation buffers once: a run allocates its outputs (off the
 * heap) and a little bookkeeping, nothing that grows with the activations. Measured with the
 * JVM's count of heap bytes allocated by all threads, including the pool threads that run
 * parallel kernels.
 */
class RunAllocationTest {
    private static final int CHANNELS = 16;
    private static final int SIZE = 64;
    private static final int RUNS = 20;

    private static Graph residualNet() {
        GraphBuilder b = new GraphBuilder("residual-net");
        b.input("x", Shape.of(Shape.DYNAMIC, CHANNELS, SIZE, SIZE));
        String v = "x";
        for (int i = 0; i < 4; i++) {
            b.initializer("w" + i, Tensor.allocate(CHANNELS, CHANNELS, 3, 3));
            String c = b.add("conv" + i, new Conv(Window.square(3, 1, 1), 1), v, "w" + i);
            String r = b.add("relu" + i, new Activation(ActivationFunction.RELU), c);
            v = b.add("add" + i, Binary.ADD, r, v);
        }
        b.output(v);
        return b.build();
    }

    private static long heapBytesPerRun(CompiledModel model, int batch) {
        try (Tensor x = Tensor.allocate(batch, CHANNELS, SIZE, SIZE)) {
            for (int i = 0; i < 5; i++) {
                model.run(x).close(); // warm-up: the plan and the pooled workspace exist afterwards
            }
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long before = threads.getTotalThreadAllocatedBytes();
            for (int i = 0; i < RUNS; i++) {
                model.run(x).close();
            }
            return (threads.getTotalThreadAllocatedBytes() - before) / RUNS;
        }
    }

    @Test
    void runsAllocateNoActivationMemory() {
        try (Graph g = residualNet();
             CompiledModel model = Engine.withBackends(List.of(new ReferenceBackend())).compile(g, "reference")) {
            long activationBytes = (long) CHANNELS * SIZE * SIZE * Float.BYTES; // one activation of one image
            long atBatch1 = heapBytesPerRun(model, 1);
            long atBatch8 = heapBytesPerRun(model, 8);
            System.out.printf("heap bytes allocated per run: %d at batch 1, %d at batch 8 (one activation: %d at batch 1,"
                    + " %d at batch 8)%n", atBatch1, atBatch8, activationBytes, 8 * activationBytes);
            assertTrue(atBatch1 < activationBytes / 4, "a batch-1 run allocated " + atBatch1 + " heap bytes");
            // Bookkeeping grows with the number of parallel tasks, not with the data: far below 8 activations.
            assertTrue(atBatch8 < activationBytes, "a batch-8 run allocated " + atBatch8 + " heap bytes");
        }
    }
}
