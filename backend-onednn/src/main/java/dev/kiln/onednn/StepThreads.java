package dev.kiln.onednn;

import dev.kiln.nativelib.NativeCallException;

import java.lang.foreign.MemorySegment;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Supplier;

/**
 * How many threads a step of a partition gets: the engine's, or one where the work is too small
 * to share. oneDNN fixes a primitive's thread count where it is created, so the choice is made
 * as its descriptor is made ({@link #sized}) and remembered until its step is created
 * ({@link #isOneThread}). The rates are one core's, rough: enough to tell work of a few
 * microseconds from work worth a fork and join.
 */
final class StepThreads {
    /** Multiply-adds per microsecond with 16-float vectors (AVX-512): about half of a 2-3 GHz core's peak. */
    static final long MACS_PER_MICROSECOND_512 = 50_000;
    /** Elements moved per microsecond by memory-bound work, whatever the vector width. */
    static final long ELEMENTS_PER_MICROSECOND = 2_000;
    /** The least one-core time shared between threads, however cheap the fork and join ({@link ForkJoinCost}). */
    static final long SHARED_FROM_MICROS = 30;

    private final Dnnl dnnl;
    /** The engine's thread count, in force while primitives are created. */
    final int threads;
    /** One core's multiply-adds per microsecond in oneDNN here ({@link MeasuredRates}; {@link #macsPerMicrosecond(int)} unmeasured). */
    final long macsPerMicrosecond;
    /**
     * The one-core microseconds from which a step is shared between the engine's threads: the fork
     * and join measured on this host ({@link ForkJoinCost}), at least {@link #SHARED_FROM_MICROS}.
     */
    private final long sharedFromMicros;
    /** Primitive descriptors created for one thread (see {@link #sized}), until their step is made. */
    private final Set<MemorySegment> oneThread = new HashSet<>();

    StepThreads(Dnnl dnnl, MemorySegment engine, int threads) {
        this.dnnl = dnnl;
        this.threads = threads;
        this.macsPerMicrosecond = MeasuredRates.macsPerMicrosecond(dnnl, engine, threads,
                macsPerMicrosecond(dnnl.effectiveCpuIsa()));
        this.sharedFromMicros = ForkJoinCost.sharedFromMicros(ForkJoinCost.micros(dnnl, engine, threads), threads,
                SHARED_FROM_MICROS);
    }

    /**
     * Creates a primitive descriptor for work of about {@code singleThreadMicros} on one core
     * with one thread when that is too little to share ({@link #sharedFromMicros}): oneDNN fixes a
     * primitive's thread count at creation, and an OpenMP fork and join costs more than it saves on small work
     * (EfficientNet-B0's 32 squeeze-excitation convolutions on one pixel: 1.16 ms per run on two
     * threads, 0.25 on one).
     */
    MemorySegment sized(long singleThreadMicros, Supplier<MemorySegment> create) {
        if (singleThreadMicros >= sharedFromMicros || threads == 1) {
            return create.get();
        }
        dnnl.setThreads(1);
        try {
            MemorySegment pd = create.get();
            oneThread.add(pd);
            return pd;
        } finally {
            dnnl.setThreads(threads);
        }
    }

    /** Whether the descriptor {@code create} makes has an optimized implementation (not reference, not GEMM-based). */
    boolean isFast(Supplier<MemorySegment> create) {
        MemorySegment pd;
        try {
            pd = create.get();
        } catch (NativeCallException e) {
            return false;
        }
        String implementation = dnnl.implementation(pd);
        dnnl.primitiveDescDestroy(pd);
        return !implementation.startsWith("ref") && !implementation.startsWith("gemm");
    }

    /** The threads a step made from {@code pd} runs with, which it keeps sized until {@link #isOneThread}. */
    int threadsOf(MemorySegment pd) {
        return oneThread.contains(pd) ? 1 : threads;
    }

    /** Whether {@code pd} was created for one thread; its step is being made, so it is forgotten. */
    boolean isOneThread(MemorySegment pd) {
        return oneThread.remove(pd);
    }

    /** Drops a primitive descriptor made for a form that was not taken. */
    void discard(MemorySegment pd) {
        oneThread.remove(pd);
        dnnl.primitiveDescDestroy(pd);
    }

    /**
     * One core's multiply-adds per microsecond under oneDNN's effective ISA: the AVX-512 rate
     * scaled by the vector width, since a core issues as many FMA instructions per cycle at
     * either width (AVX2's 8 floats: half, so work counts as twice as long and is shared from
     * half the size).
     */
    static long macsPerMicrosecond(int cpuIsa) {
        if ((cpuIsa & Dnnl.CPU_ISA_AVX512_CORE) == Dnnl.CPU_ISA_AVX512_CORE) {
            return MACS_PER_MICROSECOND_512;
        }
        return (cpuIsa & Dnnl.CPU_ISA_AVX2) == Dnnl.CPU_ISA_AVX2 ? MACS_PER_MICROSECOND_512 / 2
                : MACS_PER_MICROSECOND_512 / 4;
    }
}
