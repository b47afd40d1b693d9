package dev.kiln.runtime;

import dev.kiln.CancelHandle;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.RunCancelledException;
import dev.kiln.RunOptions;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.models.Models;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * VGG-16 on the reference backend is one partition of seconds of plain loops: a cancel 100 ms
 * into a run must stop it inside its kernels (between the tasks of a convolution's or fully
 * connected layer's parallel loop), not at the end. Prints how long after the cancel the run
 * ended; asserts only a hang guard, since a loaded 2-core machine stretches any one task.
 */
class CancelLatencyTest {
    private static final long GUARD_MS = 5_000;

    @Test
    void vgg16OnTheReferenceBackendStopsSoonAfterACancel() throws Exception {
        try (Graph g = Models.byName("vgg16").build(42);
             CompiledModel model = Engine.withBackends(List.of(new ReferenceBackend())).compile(g, ReferenceBackend.ID);
             Tensor image = Tensor.allocate(1, 3, 224, 224)) {
            long[] millis = new long[3];
            for (int attempt = 0; attempt < millis.length; attempt++) {
                CancelHandle handle = new CancelHandle();
                CompletableFuture<Map<String, Tensor>> run = model.runAsync(Map.of(g.inputs().getFirst().name(), image),
                        RunOptions.NONE.withCancellation(handle));
                Thread.sleep(100);
                long cancelled = System.nanoTime();
                handle.cancel();
                var e = assertThrows(ExecutionException.class, () -> run.get(GUARD_MS, TimeUnit.MILLISECONDS));
                millis[attempt] = (System.nanoTime() - cancelled) / 1_000_000;
                assertInstanceOf(RunCancelledException.class, e.getCause());
            }
            System.out.printf("VGG-16 on reference, cancelled 100 ms into a run: ended %s ms after the cancel (load"
                    + " average %.2f)%n", java.util.Arrays.toString(millis),
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
            for (long m : millis) {
                assertTrue(m < GUARD_MS, "a cancelled run took " + m + " ms to end");
            }
        }
    }
}
