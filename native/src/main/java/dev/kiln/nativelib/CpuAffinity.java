package dev.kiln.nativelib;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.IntStream;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The calling thread's CPU affinity, through Linux's {@code sched_getaffinity} and
 * {@code sched_setaffinity}. Engines that run a team of threads over all of a machine's cores
 * pin the team to one core each: after an idle gap the scheduler otherwise wakes a helper on
 * the core of the thread that woke it, and both share that core until it spreads them again
 * (a measured 1.3-1.5x on 5 ms inferences with pauses between them).
 *
 * <p>Absent (see {@link #load()}) where the C library has no such calls.
 */
public final class CpuAffinity {
    /** glibc's {@code cpu_set_t}: 1024 bits. */
    private static final long SET_BYTES = 128;

    private final MethodHandle getAffinity;
    private final MethodHandle setAffinity;

    private static final Optional<CpuAffinity> INSTANCE = bind();

    private CpuAffinity(MethodHandle getAffinity, MethodHandle setAffinity) {
        this.getAffinity = getAffinity;
        this.setAffinity = setAffinity;
    }

    private static Optional<CpuAffinity> bind() {
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
            return Optional.empty();
        }
        Linker linker = Linker.nativeLinker();
        FunctionDescriptor descriptor = FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS);
        var get = linker.defaultLookup().find("sched_getaffinity");
        var set = linker.defaultLookup().find("sched_setaffinity");
        if (get.isEmpty() || set.isEmpty()) {
            return Optional.empty();
        }
        CpuAffinity affinity = new CpuAffinity(linker.downcallHandle(get.get(), descriptor),
                linker.downcallHandle(set.get(), descriptor));
        try {
            affinity.current();
        } catch (IllegalStateException e) {
            return Optional.empty(); // more CPUs than a cpu_set_t holds: leave placement to the scheduler
        }
        return Optional.of(affinity);
    }

    /** The affinity calls, or empty where this platform has none. */
    public static Optional<CpuAffinity> load() {
        return INSTANCE;
    }

    /** The calling thread's affinity mask, to hand back to {@link #restore(Mask)}. */
    public Mask current() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = arena.allocate(SET_BYTES);
            int rc = (int) getAffinity.invokeExact(0, SET_BYTES, set);
            if (rc != 0) {
                throw new IllegalStateException("sched_getaffinity failed: " + rc);
            }
            return new Mask(set.toArray(JAVA_BYTE));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The CPUs the calling thread may run on, ascending. */
    public int[] allowedCpus() {
        return current().cpus();
    }

    /**
     * Binds the calling thread to {@code cpu}. Returns false when the kernel refuses (the CPU
     * went offline or left the process's cgroup); the thread then stays where it may run.
     */
    public boolean pinTo(int cpu) {
        if (cpu < 0 || cpu >= SET_BYTES * 8) {
            throw new IllegalArgumentException("CPU " + cpu + " outside 0.." + (SET_BYTES * 8 - 1));
        }
        byte[] bits = new byte[(int) SET_BYTES];
        bits[cpu >> 3] = (byte) (1 << (cpu & 7));
        return set(bits);
    }

    /** Gives the calling thread back a mask read by {@link #current()}. */
    public boolean restore(Mask mask) {
        return set(mask.bits);
    }

    private boolean set(byte[] bits) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = arena.allocate(SET_BYTES);
            MemorySegment.copy(bits, 0, set, JAVA_BYTE, 0, bits.length);
            return (int) setAffinity.invokeExact(0, SET_BYTES, set) == 0;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** A thread's affinity mask. */
    public static final class Mask {
        private final byte[] bits;

        private Mask(byte[] bits) {
            this.bits = bits;
        }

        /** The CPUs in the mask, ascending. */
        public int[] cpus() {
            return IntStream.range(0, bits.length * 8)
                    .filter(cpu -> (bits[cpu >> 3] & (1 << (cpu & 7))) != 0).toArray();
        }

        @Override
        public String toString() {
            return Arrays.toString(cpus());
        }
    }
}
