package dev.kiln.cpusimd;

import dev.kiln.cache.CacheKey;
import dev.kiln.cache.KilnCache;
import dev.kiln.cache.TuningCache;
import dev.kiln.selection.HostFingerprint;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The FP32 throughput this JVM reaches on this machine: independent fused multiply-add chains of
 * the Vector API's preferred species (as the JVM settled it: {@code -XX:UseAVX=2} makes it 256
 * bits, {@code -XX:MaxVectorSize=16} 128) with nothing else in the loop ({@link FmaChains}), on
 * {@code threads} platform threads at once, best of a few rounds of 40 ms. The ceiling a Java
 * kernel can approach, not the CPU's datasheet figure: a C kernel may do better (AVX-512 from C
 * under {@code -XX:UseAVX=2}, or a CPU whose boost the JVM's code does not reach).
 *
 * <p>How to read it: a layer's achieved GFLOP/s ({@code 2 * MACs / time}, as {@code kiln bench
 * --profile} gives it per node) over {@link #gflopPerS()} at the same thread count is the share of
 * the machine's arithmetic the layer used. A dense 1x1 or 3x3 convolution (a GEMM) can come near it
 * (measured on these hosts against the C peak of FMA chains: oneDNN's sgemm 71%, cpu-simd's 1x1 layer
 * 84% on one core in {@code ConvKernelBenchmark}); a depthwise convolution or a fully connected layer at batch 1 moves a byte or more per FLOP and is
 * bound by memory, so a few percent is normal there. A measurement taken while other processes ran
 * reads low, as does every timing beside it.
 *
 * <p>Measured once per process and thread count by {@link #of(int)} (the first one 0.3-0.8 s on a
 * 2-core host at load 5-10, 0.8-1.2 s at load 17-21, mostly C2 compiling the chains; each later one
 * about 0.15 s more), which then keeps the best figure seen for the CPU, its ISA flags and the
 * JVM's limits on them, the JDK and the thread count ({@link HostFingerprint}) in the tuning cache (kind {@value #CACHE_KIND}): a measurement taken on a
 * busy host reads low and does not lower it. Removing {@code <cache>/machine-peak} forgets it.
 *
 * @param threads      the platform threads that ran the chains at once
 * @param vectorBits   the preferred species' width
 * @param accumulators independent chains per thread (12 with 16 vector registers, 24 with 32)
 * @param gflopPerS    FP32 GFLOP/s of all threads together, two FLOPs per FMA lane
 * @param source       measured by this process, or the tuning cache's higher figure
 */
public record MachinePeak(int threads, int vectorBits, int accumulators, double gflopPerS, Source source) {
    static final String CACHE_KIND = "machine-peak";
    /** Part of the cache key: a change to how the probe measures makes earlier entries another question. */
    static final String PROBE_VERSION = "1";

    /** Where a peak came from. */
    public enum Source {
        /** Measured by this process. */
        MEASURED,
        /** The best figure the tuning cache holds, higher than this process's. */
        TUNING_CACHE
    }

    private static final Map<Integer, MachinePeak> MEASURED = new ConcurrentHashMap<>();

    public MachinePeak {
        if (threads < 1) {
            throw new IllegalArgumentException("a peak needs at least one thread, got " + threads);
        }
        if (!(gflopPerS > 0) || Double.isInfinite(gflopPerS)) {
            throw new IllegalArgumentException("a peak must be a positive, finite GFLOP/s, got " + gflopPerS);
        }
    }

    /** Why no peak can be measured in this JVM (the Vector API module is not readable); empty when it can. */
    public static Optional<String> unavailableReason() {
        return ModuleLayer.boot().findModule(CpuSimdBackend.VECTOR_MODULE).isPresent() ? Optional.empty()
                : Optional.of("no peak measured: " + CpuSimdBackend.reason(false));
    }

    /**
     * The peak on {@code threads} threads: measured once per process, then the higher of that and the
     * best the tuning cache holds for this key (where the higher is this process's, it is stored).
     *
     * @throws UnsupportedOperationException when {@link #unavailableReason()} says why
     */
    public static MachinePeak of(int threads) {
        return of(threads, TuningCache.open(KilnCache.configuredRoot(), CACHE_KIND));
    }

    /** As {@link #of(int)}, with the tuning cache given (tests use a folder of their own, or none). */
    static MachinePeak of(int threads, TuningCache cache) {
        checkThreads(threads);
        return MEASURED.computeIfAbsent(threads, t -> bestOf(measure(t), cache));
    }

    /**
     * The higher of a measured peak and the one stored for its key, storing the measured one where it
     * is higher or nothing valid is stored. A peak is a maximum: another process, a loaded moment,
     * only ever lowers a measurement, so the best one seen is the truest.
     */
    static MachinePeak bestOf(MachinePeak measured, TuningCache cache) {
        CacheKey key = key(measured.threads());
        Optional<MachinePeak> stored = cache.get(key).flatMap(values -> fromCache(measured.threads(), values));
        if (stored.isPresent() && stored.get().gflopPerS() > measured.gflopPerS()) {
            return stored.get();
        }
        cache.put(key, Map.of("gflop_per_s", Double.toString(measured.gflopPerS()),
                "vector_bits", Integer.toString(measured.vectorBits()),
                "accumulators", Integer.toString(measured.accumulators())));
        return measured;
    }

    /**
     * Measures now, on {@code threads} threads, caching nothing (the benchmark of the probe, and
     * callers that want a fresh figure).
     *
     * @throws UnsupportedOperationException when {@link #unavailableReason()} says why
     */
    public static MachinePeak measure(int threads) {
        checkThreads(threads);
        unavailableReason().ifPresent(why -> {
            throw new UnsupportedOperationException(why);
        });
        FmaChains chains = new FmaChains(RegisterTiles.MACHINE.vectorRegisters());
        chains.warmUp();
        try {
            return new MachinePeak(threads, FmaChains.SPECIES.vectorBitSize(), chains.accumulators(),
                    chains.flopsPerSecond(threads) / 1e9, Source.MEASURED);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while measuring the machine peak", e);
        }
    }

    /** {@code gflopPerS} as a percentage of this peak. */
    public double percentOf(double gflopPerS) {
        return 100 * gflopPerS / this.gflopPerS;
    }

    /** For people: e.g. "345.2 GFLOP/s FP32 on 2 threads (512-bit vectors, 24 FMA chains per thread, measured)". */
    public String describe() {
        return String.format(java.util.Locale.ROOT, "%.1f GFLOP/s FP32 on %d thread%s (%d-bit vectors, %d FMA chains"
                        + " per thread, %s)", gflopPerS, threads, threads == 1 ? "" : "s", vectorBits, accumulators,
                source == Source.MEASURED ? "measured" : "from the tuning cache");
    }

    private static void checkThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("a peak needs at least one thread, got " + threads);
        }
    }

    static CacheKey key(int threads) {
        HostFingerprint host = HostFingerprint.current();
        return CacheKey.of().with("probe", "fma-chains-" + PROBE_VERSION).with("threads", Integer.toString(threads))
                .with("cpu", host.cpu()).with("isa", host.isa()).with("jdk", host.jdk());
    }

    /** A stored peak, when its values are whole and still describe this JVM's species. */
    private static Optional<MachinePeak> fromCache(int threads, Map<String, String> values) {
        try {
            int bits = Integer.parseInt(values.get("vector_bits"));
            if (unavailableReason().isPresent() || bits != FmaChains.SPECIES.vectorBitSize()) {
                return Optional.empty();
            }
            return Optional.of(new MachinePeak(threads, bits, Integer.parseInt(values.get("accumulators")),
                    Double.parseDouble(values.get("gflop_per_s")), Source.TUNING_CACHE));
        } catch (RuntimeException e) { // a value missing or not a number: measure again
            return Optional.empty();
        }
    }
}
