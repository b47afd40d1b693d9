package dev.kiln.onednn;

import dev.kiln.cache.CacheKey;
import dev.kiln.cache.KilnCache;
import dev.kiln.cache.TuningCache;
import dev.kiln.nativelib.NativeResources;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Whether a 3x3 convolution of stride 1 runs as Winograd F(2x2, 3x3) ({@link WinogradF2x3}) or
 * as oneDNN's own convolution, by timing both once on this machine. No bound from the cache size
 * alone fits both instruction sets (kernels_vs_onednn.sh, one thread, 32 MB L3: VGG-16's 224x224
 * layers 13.7% slower as Winograd under AVX-512 and 12.8% faster under AVX2; ResNet-50's
 * 512-channel 7x7 ones 13% faster under AVX-512, 6-10% under AVX2), so under
 * {@code -Dkiln.onednn.winograd=timed} (the default) the shapes the rule admits with its cache
 * bounds {@value #WIDER} times wider are timed: both forms alternated, up to {@value #RUNS} runs
 * each after one to warm, the fastest of each (the JIT's compiler threads only ever add time to
 * a run), on the oneDNN thread. On one OpenMP thread (the engine's count restored after), as
 * {@link MeasuredRates} measures: on a 2-vCPU host under load (load average 4-5) two-thread
 * timings of GoogLeNet's 3x3 layers came out 2-10 times their in-model time whenever the other
 * core was taken (a team of two waits at every barrier for the thread not running), and two cold
 * compiles disagreed on 12 of its 16 shapes; on one thread they agreed within ~5%. Layouts are
 * each form's own (the direct convolution's oneDNN's choice, Winograd's channels-last); the
 * reorders around them in a model are not timed.
 *
 * <p>Timed once per machine: the answer is kept in the tuning cache (kind {@value #CACHE_KIND})
 * under the shape, the bias and residual, the thread count, and what {@link MeasuredRates} keys
 * its rate by (the CPU, its ISA flags with the caps in force, oneDNN's effective ISA and version)
 * with Kiln's kernel ISA; a hit costs no timing, an unreadable entry is timed again. A shape whose
 * direct run would take more than {@value #MAX_RUN_MICROS} us on one core (at the measured rate)
 * is not timed: the rule decides. {@code rule} keeps the rule alone (the test
 * suite's setting: deterministic), {@code off} runs every convolution directly.
 */
final class WinogradChoice {
    static final String PROPERTY = "kiln.onednn.winograd";
    static final String CACHE_KIND = "onednn-winograd";
    /** Part of the key: a change to how the forms are timed makes earlier entries another question. */
    static final String PROBE_VERSION = "1";
    /** How much wider than the rule's cache bounds the timed shapes go. */
    static final long WIDER = 4;
    /** The longest estimated run of the direct form that is timed, in microseconds. */
    static final long MAX_RUN_MICROS = 50_000;
    static final int RUNS = 5;
    /** Runs of each form fewer than {@link #RUNS} where they would take longer than this, in microseconds. */
    static final long RUNS_MICROS = 100_000;
    static final int MIN_RUNS = 3;
    private static final System.Logger LOG = System.getLogger("dev.kiln.onednn");
    /** Shapes timed in this process: what a cache hit does not add to. */
    private static final AtomicLong TIMINGS = new AtomicLong();

    /** How the form is chosen. */
    enum Mode {
        TIMED, RULE, OFF;

        /** The mode of {@code -Dkiln.onednn.winograd}, {@code timed} when unset. */
        static Mode configured() {
            String value = System.getProperty(PROPERTY, "timed").trim();
            for (Mode m : values()) {
                if (m.name().toLowerCase(Locale.ROOT).equals(value)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("-D" + PROPERTY + "=" + value + " is none of timed, rule, off");
        }

        /** The most bytes of a transformed operand in the shapes this mode may run as Winograd. */
        long maxTransformedBytes() {
            return this == TIMED ? WIDER * WinogradF2x3.MAX_TRANSFORMED_BYTES : WinogradF2x3.MAX_TRANSFORMED_BYTES;
        }
    }

    /**
     * The form taken and why, for {@code explain}.
     *
     * @param winograd whether Winograd runs the convolution
     * @param how      timed now, timed earlier (the cache), or ruled, with the times where timed
     */
    record Choice(boolean winograd, String how) {
    }

    private WinogradChoice() {
    }

    /** Shapes timed so far in this process. */
    static long timings() {
        return TIMINGS.get();
    }

    /** As {@link #choose(Dnnl, MemorySegment, NativeKernels, int, long, WinogradF2x3, boolean, boolean, boolean, TuningCache)}, in Kiln's tuning cache. */
    static Choice choose(Dnnl dnnl, MemorySegment engine, NativeKernels kernels, int threads, long macsPerMicrosecond,
                         WinogradF2x3 f, boolean bias, boolean residual, boolean ruleTakesIt) {
        return choose(dnnl, engine, kernels, threads, macsPerMicrosecond, f, bias, residual, ruleTakesIt,
                TuningCache.open(KilnCache.configuredRoot(), CACHE_KIND));
    }

    /**
     * The form for {@code f}: the cache's answer, else both timed now and the answer stored, else
     * (too long to time, or a form failed) the rule's {@code ruleTakesIt}. Call on the oneDNN
     * thread with the engine's {@code threads} in force.
     */
    static Choice choose(Dnnl dnnl, MemorySegment engine, NativeKernels kernels, int threads, long macsPerMicrosecond,
                         WinogradF2x3 f, boolean bias, boolean residual, boolean ruleTakesIt, TuningCache cache) {
        CacheKey key = key(dnnl, kernels, threads, f, bias, residual);
        Optional<Choice> stored = cache.get(key).flatMap(WinogradChoice::fromCache);
        if (stored.isPresent()) {
            return stored.get();
        }
        long directMicros = directMacs(f) / Math.max(1, macsPerMicrosecond);
        if (directMicros > MAX_RUN_MICROS) {
            return new Choice(ruleTakesIt, "by the rule (a direct run of about " + directMicros / 1000
                    + " ms is too long to time)");
        }
        double[] nanos;
        try {
            TIMINGS.incrementAndGet();
            int runs = (int) Math.max(MIN_RUNS, Math.min(RUNS, RUNS_MICROS / Math.max(1, directMicros)));
            nanos = fastestRuns(dnnl, engine, kernels, f, bias, residual, runs, threads);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "the forms of " + f + " could not be timed (" + e.getMessage()
                    + "); the rule chooses");
            return new Choice(ruleTakesIt, "by the rule (timing failed)");
        }
        boolean winograd = nanos[0] < nanos[1];
        String winogradUs = Long.toString(Math.round(nanos[0] / 1000));
        String directUs = Long.toString(Math.round(nanos[1] / 1000));
        // The load average as timed: not part of the answer, but what tells a choice made on a busy machine.
        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        cache.put(key, Map.of("form", winograd ? "winograd" : "direct", "winograd_us", winogradUs,
                "direct_us", directUs, "load_average", String.format(Locale.ROOT, "%.2f", load)));
        return new Choice(winograd, timedHow("timed", winogradUs, directUs));
    }

    static CacheKey key(Dnnl dnnl, NativeKernels kernels, int threads, WinogradF2x3 f, boolean bias,
                        boolean residual) {
        CacheKey rates = MeasuredRates.key(dnnl);
        CacheKey key = CacheKey.of().with("probe", "onednn-winograd-" + PROBE_VERSION);
        for (Map.Entry<String, String> e : rates.fields().entrySet()) {
            if (!e.getKey().equals("probe")) {
                key = key.with(e.getKey(), e.getValue());
            }
        }
        return key.with("kernel_isa", kernels.isa().suffix).with("threads", Integer.toString(threads))
                .with("shape", f.batch() + "x" + f.channels() + "x" + f.height() + "x" + f.width() + "->"
                        + f.outChannels() + "x" + f.outHeight() + "x" + f.outWidth() + " pad " + f.padTop() + ","
                        + f.padLeft()).with("bias", Boolean.toString(bias)).with("residual", Boolean.toString(residual));
    }

    private static String timedHow(String when, String winogradUs, String directUs) {
        return when + " (" + winogradUs + " us as Winograd, " + directUs + " us direct)";
    }

    private static Optional<Choice> fromCache(Map<String, String> values) {
        String form = values.get("form");
        String winogradUs = values.get("winograd_us");
        String directUs = values.get("direct_us");
        if (form == null || winogradUs == null || directUs == null
                || !form.equals("winograd") && !form.equals("direct")) {
            return Optional.empty(); // unreadable: timed again
        }
        return Optional.of(new Choice(form.equals("winograd"), timedHow("timed earlier", winogradUs, directUs)));
    }

    static long directMacs(WinogradF2x3 f) {
        return f.batch() * f.outHeight() * f.outWidth() * f.outChannels() * f.channels() * 9;
    }

    /**
     * The fastest of {@code runs} runs of each form on one OpenMP thread (then {@code threads}
     * again), alternated after one run each to warm, in nanoseconds: {Winograd, direct}. Buffers
     * hold zeros (no denormals: the same time as data).
     */
    static double[] fastestRuns(Dnnl dnnl, MemorySegment engine, NativeKernels kernels, WinogradF2x3 f,
                                boolean bias, boolean residual, int runs, int threads) {
        dnnl.setThreads(1); // before the primitives are created: oneDNN fixes their thread count there
        try (NativeResources r = new NativeResources()) {
            MemorySegment stream = dnnl.streamCreate(engine);
            r.own(stream, () -> dnnl.streamDestroy(stream));
            Runnable direct = direct(dnnl, engine, stream, r, f, bias, residual);
            Runnable winograd = winograd(dnnl, engine, stream, r, kernels, f, bias, residual);
            double[] fastest = {Double.MAX_VALUE, Double.MAX_VALUE};
            for (int i = 0; i <= runs; i++) {
                long start = System.nanoTime();
                winograd.run();
                long afterWinograd = System.nanoTime();
                direct.run();
                long end = System.nanoTime();
                if (i > 0) {
                    fastest[0] = Math.min(fastest[0], afterWinograd - start);
                    fastest[1] = Math.min(fastest[1], end - afterWinograd);
                }
            }
            return fastest;
        } finally {
            dnnl.setThreads(threads);
        }
    }

    /** oneDNN's convolution, layouts its choice, the residual summed in place as the lowering does. */
    private static Runnable direct(Dnnl dnnl, MemorySegment engine, MemorySegment stream, NativeResources r,
                                   WinogradF2x3 f, boolean bias, boolean residual) {
        long[] srcDims = {f.batch(), f.channels(), f.height(), f.width()};
        long[] dstDims = {f.batch(), f.outChannels(), f.outHeight(), f.outWidth()};
        MemorySegment src = owned(dnnl, r, dnnl.memoryDesc(srcDims, true));
        MemorySegment weights = owned(dnnl, r, dnnl.memoryDesc(new long[]{f.outChannels(), f.channels(), 3, 3}, true));
        MemorySegment biasMd = bias ? owned(dnnl, r, dnnl.memoryDesc(new long[]{f.outChannels()}, false))
                : MemorySegment.NULL;
        MemorySegment dst = owned(dnnl, r, dnnl.memoryDesc(dstDims, true));
        MemorySegment postOps = MemorySegment.NULL;
        if (residual) {
            MemorySegment ops = dnnl.postOpsCreate();
            r.own(ops, () -> dnnl.postOpsDestroy(ops));
            dnnl.postOpsAppendSum(ops);
            postOps = ops;
        }
        MemorySegment attr = dnnl.attr(postOps);
        r.own(attr, () -> dnnl.attrDestroy(attr));
        long padBottom = f.outHeight() + 2 - f.height() - f.padTop();
        long padRight = f.outWidth() + 2 - f.width() - f.padLeft();
        String what = "timing the direct form of " + f;
        MemorySegment pd = dnnl.convolution(engine, src, weights, biasMd, dst, new long[]{1, 1}, new long[]{0, 0},
                new long[]{f.padTop(), f.padLeft()}, new long[]{padBottom, padRight}, attr, what);
        r.own(pd, () -> dnnl.primitiveDescDestroy(pd));
        List<Object[]> args = new ArrayList<>(List.of(new Object[]{Dnnl.ARG_SRC, dnnl.queryMd(pd, Dnnl.QUERY_SRC_MD, 0)},
                new Object[]{Dnnl.ARG_WEIGHTS, dnnl.queryMd(pd, Dnnl.QUERY_WEIGHTS_MD, 0)},
                new Object[]{Dnnl.ARG_DST, dnnl.queryMd(pd, Dnnl.QUERY_DST_MD, 0)},
                new Object[]{Dnnl.ARG_SCRATCHPAD, dnnl.queryMd(pd, Dnnl.QUERY_SCRATCHPAD_MD, 0)}));
        if (bias) {
            args.add(new Object[]{Dnnl.ARG_BIAS, biasMd});
        }
        return primitive(dnnl, engine, stream, r, pd, args, what);
    }

    /** Kiln's input transform, oneDNN's matmul over the 16 positions, Kiln's output transform. */
    private static Runnable winograd(Dnnl dnnl, MemorySegment engine, MemorySegment stream, NativeResources r,
                                     NativeKernels kernels, WinogradF2x3 f, boolean bias, boolean residual) {
        long[] vDims = {WinogradF2x3.POSITIONS, f.tiles(), f.channels()};
        long[] mDims = {WinogradF2x3.POSITIONS, f.tiles(), f.outChannels()};
        long[] uDims = {WinogradF2x3.POSITIONS, f.channels(), f.outChannels()};
        MemorySegment vMd = owned(dnnl, r, dnnl.memoryDesc(vDims, false));
        MemorySegment mMd = owned(dnnl, r, dnnl.memoryDesc(mDims, false));
        MemorySegment uMd = owned(dnnl, r, dnnl.memoryDesc(uDims, true));
        MemorySegment attr = dnnl.attr(MemorySegment.NULL);
        r.own(attr, () -> dnnl.attrDestroy(attr));
        String what = "timing the Winograd form of " + f;
        MemorySegment pd = dnnl.matmul(engine, vMd, uMd, mMd, attr, what);
        r.own(pd, () -> dnnl.primitiveDescDestroy(pd));
        MemorySegment v = zeros(r, f.transformedBytes(f.channels()));
        MemorySegment m = zeros(r, f.transformedBytes(f.outChannels()));
        Runnable matmul = primitive(dnnl, engine, stream, r, pd, List.of(
                new Object[]{Dnnl.ARG_SRC, vMd, v},
                new Object[]{Dnnl.ARG_WEIGHTS, dnnl.queryMd(pd, Dnnl.QUERY_WEIGHTS_MD, 0)},
                new Object[]{Dnnl.ARG_DST, mMd, m},
                new Object[]{Dnnl.ARG_SCRATCHPAD, dnnl.queryMd(pd, Dnnl.QUERY_SCRATCHPAD_MD, 0)}), what);
        MemorySegment src = zeros(r, f.inputBytes());
        MemorySegment dst = zeros(r, f.outputBytes());
        MemorySegment biasData = bias ? zeros(r, f.outChannels() * Float.BYTES) : MemorySegment.NULL;
        MemorySegment added = residual ? dst : MemorySegment.NULL; // in place, as the lowering adds a last read
        MemorySegment shape = f.toNative(r);
        return () -> {
            kernels.winogradInput(src, v, f, shape);
            matmul.run();
            kernels.winogradOutput(m, dst, biasData, added, 0, Float.POSITIVE_INFINITY, f, shape);
        };
    }

    /**
     * A primitive of {@code pd} bound to its arguments, each {kind, descriptor} (zeroed storage of
     * its own) or {kind, descriptor, storage}; an empty descriptor (no scratchpad) is left out.
     */
    private static Runnable primitive(Dnnl dnnl, MemorySegment engine, MemorySegment stream, NativeResources r,
                                      MemorySegment pd, List<Object[]> bound, String what) {
        MemorySegment primitive = dnnl.primitiveCreate(pd, what);
        r.own(primitive, () -> dnnl.primitiveDestroy(primitive));
        MemorySegment args = r.allocate(Dnnl.EXEC_ARG_BYTES * bound.size(), 8);
        int count = 0;
        for (Object[] arg : bound) {
            MemorySegment md = (MemorySegment) arg[1];
            long bytes = md.equals(MemorySegment.NULL) ? 0 : dnnl.memoryDescSize(md);
            if (bytes == 0) {
                continue;
            }
            MemorySegment storage = arg.length > 2 ? (MemorySegment) arg[2] : zeros(r, bytes);
            MemorySegment memory = dnnl.memoryCreate(md, engine, storage);
            r.own(memory, () -> dnnl.memoryDestroy(memory));
            args.set(JAVA_INT, count * Dnnl.EXEC_ARG_BYTES, (Integer) arg[0]);
            args.set(ADDRESS, count * Dnnl.EXEC_ARG_BYTES + 8, memory);
            count++;
        }
        int argCount = count;
        return () -> dnnl.execute(primitive, stream, argCount, args, what);
    }

    private static MemorySegment owned(Dnnl dnnl, NativeResources r, MemorySegment md) {
        return r.own(md, () -> dnnl.memoryDescDestroy(md));
    }

    private static MemorySegment zeros(NativeResources r, long bytes) {
        MemorySegment s = r.allocate(bytes, 64);
        s.fill((byte) 0);
        return s;
    }
}
