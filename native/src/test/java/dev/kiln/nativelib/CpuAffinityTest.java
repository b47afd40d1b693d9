package dev.kiln.nativelib;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuAffinityTest {
    private static CpuAffinity affinity() {
        // Kiln's CI and every machine it targets run Linux; absence there would be a binding bug.
        assertTrue(System.getProperty("os.name").toLowerCase().contains("linux"), "these tests run on Linux");
        return CpuAffinity.load().orElseThrow(() -> new AssertionError("sched_*affinity not bound on Linux"));
    }

    @Test
    void theAllowedCpusAreAscendingAndNoFewerThanTheJvmSees() {
        int[] cpus = affinity().allowedCpus();
        assertTrue(cpus.length >= 1);
        for (int i = 1; i < cpus.length; i++) {
            assertTrue(cpus[i] > cpus[i - 1], Arrays.toString(cpus));
        }
        // The JVM's count also reflects a container's CPU quota, never more CPUs than the mask.
        assertTrue(Runtime.getRuntime().availableProcessors() <= cpus.length, Arrays.toString(cpus));
    }

    @Test
    void pinningBindsOnlyTheCallingThreadAndRestoringGivesItsMaskBack() throws InterruptedException {
        CpuAffinity affinity = affinity();
        int[] allowed = affinity.allowedCpus();
        int target = allowed[allowed.length - 1];
        AtomicReference<int[]> pinned = new AtomicReference<>();
        AtomicReference<int[]> restored = new AtomicReference<>();
        AtomicReference<int[]> other = new AtomicReference<>();
        Thread worker = new Thread(() -> {
            CpuAffinity.Mask before = affinity.current();
            assertTrue(affinity.pinTo(target));
            pinned.set(affinity.current().cpus());
            Thread bystander = new Thread(() -> other.set(affinity.current().cpus()));
            try {
                // A thread started while its creator is pinned inherits the pin.
                bystander.start();
                bystander.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            assertTrue(affinity.restore(before));
            restored.set(affinity.current().cpus());
        });
        worker.start();
        worker.join();
        assertArrayEquals(new int[]{target}, pinned.get());
        assertArrayEquals(new int[]{target}, other.get());
        assertArrayEquals(allowed, restored.get());
        assertArrayEquals(allowed, affinity.allowedCpus(), "the test thread's own mask changed");
    }

    @Test
    void aCpuOutsideTheSetIsRefusedBeforeAnyNativeCall() {
        CpuAffinity affinity = affinity();
        assertThrows(IllegalArgumentException.class, () -> affinity.pinTo(-1));
        assertThrows(IllegalArgumentException.class, () -> affinity.pinTo(1024));
    }

    @Test
    void aCpuTheProcessMayNotUseIsReportedNotApplied() throws InterruptedException {
        CpuAffinity affinity = affinity();
        int[] allowed = affinity.allowedCpus();
        int outside = 1023;
        assertFalse(Arrays.stream(allowed).anyMatch(c -> c == outside), "a machine with 1024 CPUs");
        AtomicReference<Boolean> accepted = new AtomicReference<>();
        AtomicReference<int[]> after = new AtomicReference<>();
        Thread worker = new Thread(() -> {
            accepted.set(affinity.pinTo(outside));
            after.set(affinity.current().cpus());
        });
        worker.start();
        worker.join();
        assertFalse(accepted.get());
        assertArrayEquals(allowed, after.get());
    }
}
