package dev.kiln.onednn;

import dev.kiln.nativelib.CpuAffinity;
import dev.kiln.nativelib.NativeLibrary;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The GNU OpenMP runtime oneDNN's bundled build runs its parallel regions on: the thread count
 * of regions started from the calling thread, and where that thread's team runs.
 *
 * <p>Placement, opt-in ({@value #PIN_PROPERTY}{@code =true}, for hosts that do nothing but
 * inference): when a team spans every CPU the process may use, each member is pinned to a CPU of
 * its own while Kiln runs it. Left to the scheduler, a helper woken after an idle gap lands on
 * the core of the thread that woke it, and the two share that core for a good part of a short
 * inference (MobileNet v2 with 100 ms pauses between blocks of runs: 6.17 -> 4.87 ms median).
 * It is not the default because a pinned thread cannot leave a core that other work wants: with
 * one busy thread elsewhere in the process, MobileNet v2 took 15.6 ms pinned against 6.4 left to
 * the scheduler. Helpers are pinned once, from inside a parallel region of their own team
 * (libgomp keeps a pool per calling thread and reuses its threads in order); the calling thread is
 * pinned for one run and gets its own mask back after. A smaller team is never pinned: that would
 * keep it off cores that other engines use.
 */
final class OpenMp {
    /** Set to {@code true} to pin oneDNN's threads (see above). */
    static final String PIN_PROPERTY = "kiln.onednn.pinThreads";
    private static final ThreadLocal<int[]> PINNED_TEAM = new ThreadLocal<>();
    private static final MethodHandle PIN_MEMBER;

    static {
        try {
            PIN_MEMBER = MethodHandles.lookup().findStatic(OpenMp.class, "pinMember",
                    MethodType.methodType(void.class, MemorySegment.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Read by the upcall, which runs on OpenMP's own threads. */
    private static volatile MethodHandle threadNum;

    private final MethodHandle setNumThreads;
    private final MethodHandle parallel;
    private final Optional<CpuAffinity> affinity;
    private final int[] cpus;
    private final MemorySegment pinMemberStub;

    private OpenMp(NativeLibrary library) {
        setNumThreads = library.function("omp_set_num_threads", FunctionDescriptor.ofVoid(JAVA_INT));
        threadNum = library.function("omp_get_thread_num", FunctionDescriptor.of(JAVA_INT));
        parallel = library.function("GOMP_parallel",
                FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, JAVA_INT, JAVA_INT));
        affinity = CpuAffinity.load();
        cpus = affinity.map(CpuAffinity::allowedCpus).orElse(new int[0]);
        pinMemberStub = Linker.nativeLinker().upcallStub(PIN_MEMBER, FunctionDescriptor.ofVoid(ADDRESS),
                Arena.global());
    }

    static OpenMp bind(NativeLibrary library) {
        return new OpenMp(library);
    }

    void setThreads(int threads) {
        try {
            setNumThreads.invokeExact(threads);
        } catch (Throwable t) {
            throw Dnnl.rethrow(t);
        }
    }

    /** Whether a team of {@code threads} is pinned: asked for, and it spans every CPU this process may use. */
    boolean pins(int threads) {
        return Boolean.getBoolean(PIN_PROPERTY) && affinity.isPresent() && threads > 1 && threads == cpus.length;
    }

    /**
     * Runs {@code body} with {@code threads} OpenMP threads for regions started from the calling
     * thread, the team pinned one per CPU when {@link #pins} says so.
     */
    void run(int threads, Runnable body) {
        setThreads(threads);
        if (!pins(threads)) {
            body.run();
            return;
        }
        CpuAffinity cpuAffinity = affinity.orElseThrow();
        pinTeam(threads);
        CpuAffinity.Mask callers = cpuAffinity.current();
        cpuAffinity.pinTo(cpus[0]);
        try {
            body.run();
        } finally {
            cpuAffinity.restore(callers);
        }
    }

    private void pinTeam(int threads) {
        if (PINNED_TEAM.get() != null && PINNED_TEAM.get().length == threads) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment placement = arena.allocateFrom(JAVA_INT, cpus);
            parallel.invokeExact(pinMemberStub, placement, threads, 0);
        } catch (Throwable t) {
            throw Dnnl.rethrow(t);
        }
        PINNED_TEAM.set(java.util.Arrays.copyOf(cpus, threads));
    }

    /** Runs on each member of a team: pins helper {@code t} to the t-th CPU. Must not throw. */
    private static void pinMember(MemorySegment cpusSegment) {
        try {
            int member = (int) threadNum.invokeExact();
            if (member > 0) {
                int cpu = cpusSegment.reinterpret((member + 1L) * Integer.BYTES).getAtIndex(JAVA_INT, member);
                CpuAffinity.load().ifPresent(a -> a.pinTo(cpu));
            }
        } catch (Throwable ignored) {
            // An unpinned helper is slower, not wrong; an exception here would end the process.
        }
    }
}
