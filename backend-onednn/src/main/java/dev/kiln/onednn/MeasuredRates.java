package dev.kiln.onednn;

import dev.kiln.cache.CacheKey;
import dev.kiln.cache.KilnCache;
import dev.kiln.cache.TuningCache;
import dev.kiln.nativelib.NativeResources;
import dev.kiln.selection.HostFingerprint;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * One core's multiply-adds per microsecond in oneDNN's dense convolutions on this machine, at the
 * instruction set oneDNN may use here: what the lowering divides a step's work by to tell what is
 * too small to share between threads. Constants fitted on one host were about twice off on
 * another (AVX2 under {@code ONEDNN_MAX_CPU_ISA=AVX2} on an AVX-512 Xeon: 25,000 assumed, about
 * 55,000 measured), so it is measured: a 3x3 convolution of 64 to 64 channels on a 20x20 image
 * (14.7 million multiply-adds, 0.1-0.3 ms), one thread, layouts oneDNN's choice.
 *
 * <p>Safe in a cold JVM: the rate is the fastest of {@value #RUNS} short runs timed one by one.
 * The JIT's compiler threads, or another process, only ever add time to a run; among that many
 * runs of a fraction of a millisecond some run untouched, where a mean would carry the
 * compilations into the rate for the life of the model.
 *
 * <p>Measured once per machine: kept in the tuning cache (kind {@value #CACHE_KIND}) under the CPU,
 * its ISA flags with the caps in force ({@link HostFingerprint#isa()}, {@code ONEDNN_MAX_CPU_ISA}
 * among them), oneDNN's effective ISA and version, and the probe's version; removing
 * {@code <cache>/onednn-rates} measures again. Where the probe cannot run (oneDNN refuses the
 * convolution), the caller's fallback holds; {@code -Dkiln.onednn.macsPerMicrosecond=N} fixes it.
 */
final class MeasuredRates {
    /** {@code measure} (the default), or a fixed number of multiply-adds per microsecond. */
    static final String PROPERTY = "kiln.onednn.macsPerMicrosecond";
    static final String MEASURE = "measure";
    static final String CACHE_KIND = "onednn-rates";
    /** Part of the key: a change to how the probe measures makes earlier entries another question. */
    static final String PROBE_VERSION = "1";
    static final int CHANNELS = 64;
    static final int SIZE = 20;
    static final int RUNS = 30;
    private static final int WARMUP = 3;
    private static final System.Logger LOG = System.getLogger("dev.kiln.onednn");

    /** This process's figure per oneDNN ISA (fixed per process, but tests key it). */
    private static final Map<Integer, Long> KNOWN = new ConcurrentHashMap<>();

    private MeasuredRates() {
    }

    /**
     * One core's multiply-adds per microsecond in a dense convolution: this process's, else the
     * tuning cache's, else measured now (on the calling thread, briefly on one OpenMP thread)
     * and stored; {@code fallback} where the probe fails. Call on the oneDNN thread whose OpenMP
     * team runs {@code threads} threads: the probe runs on one and gives that count back.
     */
    static long macsPerMicrosecond(Dnnl dnnl, MemorySegment engine, int threads, long fallback) {
        String fixed = System.getProperty(PROPERTY, MEASURE).trim();
        if (!fixed.equals(MEASURE)) {
            try {
                long rate = Long.parseLong(fixed);
                if (rate > 0) {
                    return rate;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException("-D" + PROPERTY + "=" + fixed + " is neither '" + MEASURE
                    + "' nor a positive number of multiply-adds per microsecond");
        }
        return macsPerMicrosecond(dnnl, engine, threads, fallback,
                TuningCache.open(KilnCache.configuredRoot(), CACHE_KIND));
    }

    /** As {@link #macsPerMicrosecond(Dnnl, MemorySegment, int, long)}, with the tuning cache given (tests). */
    static long macsPerMicrosecond(Dnnl dnnl, MemorySegment engine, int threads, long fallback, TuningCache cache) {
        return KNOWN.computeIfAbsent(dnnl.effectiveCpuIsa(),
                isa -> cachedOrMeasured(dnnl, engine, threads, fallback, cache));
    }

    /** The tuning cache's figure, else one measured now and stored there (not this process's memory). */
    static long cachedOrMeasured(Dnnl dnnl, MemorySegment engine, int threads, long fallback, TuningCache cache) {
        CacheKey key = key(dnnl);
        Optional<Long> stored = cache.get(key).flatMap(MeasuredRates::fromCache);
        if (stored.isPresent()) {
            return stored.get();
        }
        long measured;
        try {
            measured = measure(dnnl, engine, threads);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "oneDNN's convolution rate could not be measured (" + e.getMessage()
                    + "); taking " + fallback + " multiply-adds per microsecond");
            return fallback;
        }
        cache.put(key, Map.of("macs_per_us", Long.toString(measured)));
        return measured;
    }

    static CacheKey key(Dnnl dnnl) {
        HostFingerprint host = HostFingerprint.current();
        return CacheKey.of().with("probe", "onednn-conv3x3-" + PROBE_VERSION).with("cpu", host.cpu())
                .with("isa", host.isa()).with("onednn_isa", Integer.toHexString(dnnl.effectiveCpuIsa()))
                .with("onednn", dnnl.version());
    }

    private static Optional<Long> fromCache(Map<String, String> values) {
        try {
            long rate = Long.parseLong(values.get("macs_per_us"));
            return rate > 0 ? Optional.of(rate) : Optional.empty();
        } catch (RuntimeException e) { // missing or not a number: measure again
            return Optional.empty();
        }
    }

    /** The multiply-adds of the probe's convolution. */
    static long probeMacs() {
        return (long) SIZE * SIZE * CHANNELS * CHANNELS * 9;
    }

    /**
     * Measures now, on the calling thread with one OpenMP thread (restored to the count in force
     * before), caching nothing: the probe's multiply-adds over its fastest run.
     */
    static long measure(Dnnl dnnl, MemorySegment engine, int threads) {
        return Math.max(1, Math.round(probeMacs() / (fastestRunNanos(dnnl, engine, threads) / 1000.0)));
    }

    /** The fastest of {@value #RUNS} runs of the probe on one thread, in nanoseconds. */
    static double fastestRunNanos(Dnnl dnnl, MemorySegment engine, int threads) {
        try (NativeResources r = new NativeResources()) {
            dnnl.setThreads(1);
            long[] image = {1, CHANNELS, SIZE, SIZE};
            MemorySegment src = dnnl.memoryDesc(image, true);
            r.own(src, () -> dnnl.memoryDescDestroy(src));
            MemorySegment dst = dnnl.memoryDesc(image, true);
            r.own(dst, () -> dnnl.memoryDescDestroy(dst));
            MemorySegment weights = dnnl.memoryDesc(new long[]{CHANNELS, CHANNELS, 3, 3}, true);
            r.own(weights, () -> dnnl.memoryDescDestroy(weights));
            MemorySegment attr = dnnl.attr(MemorySegment.NULL);
            r.own(attr, () -> dnnl.attrDestroy(attr));
            MemorySegment pd = dnnl.convolution(engine, src, weights, MemorySegment.NULL, dst, new long[]{1, 1},
                    new long[]{0, 0}, new long[]{1, 1}, new long[]{1, 1}, attr, "the convolution rate probe");
            r.own(pd, () -> dnnl.primitiveDescDestroy(pd));
            MemorySegment conv = dnnl.primitiveCreate(pd, "the convolution rate probe");
            r.own(conv, () -> dnnl.primitiveDestroy(conv));
            MemorySegment stream = dnnl.streamCreate(engine);
            r.own(stream, () -> dnnl.streamDestroy(stream));
            int[] kinds = {Dnnl.ARG_SRC, Dnnl.ARG_WEIGHTS, Dnnl.ARG_DST, Dnnl.ARG_SCRATCHPAD};
            int[] queries = {Dnnl.QUERY_SRC_MD, Dnnl.QUERY_WEIGHTS_MD, Dnnl.QUERY_DST_MD, Dnnl.QUERY_SCRATCHPAD_MD};
            MemorySegment args = r.allocate(Dnnl.EXEC_ARG_BYTES * kinds.length, 8);
            int count = 0;
            for (int i = 0; i < kinds.length; i++) {
                MemorySegment md = dnnl.queryMd(pd, queries[i], 0);
                long bytes = md.equals(MemorySegment.NULL) ? 0 : dnnl.memoryDescSize(md);
                if (bytes == 0) {
                    continue; // no scratchpad
                }
                MemorySegment buffer = r.allocate(bytes, 64);
                buffer.fill((byte) 0);
                MemorySegment memory = dnnl.memoryCreate(md, engine, buffer);
                r.own(memory, () -> dnnl.memoryDestroy(memory));
                args.set(JAVA_INT, count * Dnnl.EXEC_ARG_BYTES, kinds[i]);
                args.set(ADDRESS, count * Dnnl.EXEC_ARG_BYTES + 8, memory);
                count++;
            }
            long fastest = Long.MAX_VALUE;
            for (int i = 0; i < WARMUP + RUNS; i++) {
                long start = System.nanoTime();
                dnnl.execute(conv, stream, count, args, "the convolution rate probe");
                long took = System.nanoTime() - start;
                if (i >= WARMUP) {
                    fastest = Math.min(fastest, took);
                }
            }
            return fastest;
        } finally {
            dnnl.setThreads(threads);
        }
    }
}
