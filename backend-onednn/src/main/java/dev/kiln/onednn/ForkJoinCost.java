package dev.kiln.onednn;

import dev.kiln.nativelib.NativeResources;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * What sharing one step between the engine's threads costs on this host now, beyond each thread's
 * share of the work: the fork and join of an OpenMP region, and the wait for a helper that another
 * process holds off its core. oneDNN splits a primitive's work statically when it is created, so
 * its master waits at the join for the helper's part however late the helper starts. On a quiet
 * host that is a few microseconds; on the 2-vCPU host shared by several builds it was 200-260 us
 * per region (GoogLeNet, whose 90 parallel steps then took 39 ms against 13 ms on one thread).
 *
 * <p>Measured on the calling thread (the oneDNN thread, whose OpenMP team runs the steps) with a
 * oneDNN ReLU over 256 KB timed alternately on one thread and on the engine's, 60 times each: the
 * fastest shared run's time beyond the fastest single run's share. Fastest, not a mean: in a cold
 * JVM the JIT's compiler threads hold a core now and then, and a mean read them as the cost
 * (below); a minimum drops the runs they touch and keeps what every run pays, a helper that
 * another process keeps off its core included (2-vCPU Xeon at load 7-8, resnet50 compiled on
 * cpu-simd meanwhile: 133-145 us cold against 133-139 warm; the trimmed means it replaced read
 * 273-542 cold against 261-263). Kept for {@link #VALID_NANOS}, so the compilations of a
 * moment share one measurement (a few ms on a quiet host, up to 0.2 s on a busy one) and a later one sees the host as it is then.
 *
 * <p>Measured only when asked for ({@code -Dkiln.onednn.forkJoinMicros=measure}); otherwise 0, so
 * the fixed floor decides, and {@code =N} fixes it at N. Not by default because a model compiled
 * early in a process is measured while the JIT's compiler threads hold a core: on a quiet 2-vCPU
 * host the probe then read hundreds of microseconds, and the steps it kept on one thread made
 * oneDNN's MobileNet v2 5.7-6.3 ms a run against 3.3-3.4 with the floor alone (EfficientNet-B0
 * 11.0-11.7 against 6.2-6.4, GoogLeNet 15.3-16.3 against 10.5), for the whole life of the model.
 * It pays on a host shared with other busy processes, where the cost it reads is the real one
 * (the fastest-run form, alternated in one process at load 7-8, AVX-512: GoogLeNet 25.1 against
 * 52.6 ms, MobileNet v2 9.4 against 25.7, EfficientNet-B0 19.7 against 51.8, ResNet-50 80.8
 * against 99.5). Still not the default: on a quiet host's cold JVM it should read a few
 * microseconds and leave the floor to decide, but a compiler thread busy through all 60 runs would
 * still read as cost, and that case is not yet measured (this host was never quiet). Not
 * kept in the tuning cache: it measures the host's load now, which a figure kept per machine
 * would freeze.
 */
final class ForkJoinCost {
    static final String PROPERTY = "kiln.onednn.forkJoinMicros";
    /** The property's value that asks for the cost to be measured. */
    static final String MEASURE = "measure";
    private static final long VALID_NANOS = 10_000_000_000L;
    /** 256 KB: within a core's L2, one thread's ReLU over it 10-30 us. */
    private static final long PROBE_FLOATS = 65_536;
    private static final int WARMUP = 10;
    private static final int ROUNDS = 60;

    private record Measured(double micros, long atNanos) {
    }

    private static final Map<Integer, Measured> BY_THREADS = new ConcurrentHashMap<>();

    private ForkJoinCost() {
    }

    /**
     * The microseconds a step shared by {@code threads} threads takes beyond its share of the
     * one-thread time; call on the oneDNN thread of that count.
     */
    static double micros(Dnnl dnnl, MemorySegment engine, int threads) {
        String fixed = System.getProperty(PROPERTY, "0").trim();
        if (!fixed.equals(MEASURE)) {
            try {
                double micros = Double.parseDouble(fixed);
                if (micros >= 0 && Double.isFinite(micros)) {
                    return micros;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException("-D" + PROPERTY + "=" + fixed
                    + " is neither '" + MEASURE + "' nor a non-negative number of microseconds");
        }
        if (threads == 1) {
            return 0;
        }
        long now = System.nanoTime();
        Measured last = BY_THREADS.get(threads);
        if (last == null || now - last.atNanos() > VALID_NANOS) {
            last = new Measured(measure(dnnl, engine, threads), System.nanoTime());
            BY_THREADS.put(threads, last);
        }
        return last.micros();
    }

    /**
     * The one-thread time from which sharing among {@code threads} pays, in microseconds: a step of
     * one-thread time t takes t / threads + cost shared, which is less than t from
     * t = cost * threads / (threads - 1); never below {@code floor}, what oneDNN's own split of
     * small work costs besides the region (EfficientNet-B0's one-pixel convolutions).
     */
    static long sharedFromMicros(double forkJoinMicros, int threads, long floor) {
        if (threads <= 1) {
            return floor;
        }
        return Math.max(floor, (long) Math.ceil(forkJoinMicros * threads / (threads - 1)));
    }

    static double measure(Dnnl dnnl, MemorySegment engine, int threads) {
        try (NativeResources r = new NativeResources()) {
            MemorySegment desc = dnnl.memoryDesc(new long[]{PROBE_FLOATS}, false);
            r.own(desc, () -> dnnl.memoryDescDestroy(desc));
            MemorySegment buffer = r.allocate(PROBE_FLOATS * Float.BYTES, 64);
            MemorySegment memory = dnnl.memoryCreate(desc, engine, buffer);
            r.own(memory, () -> dnnl.memoryDestroy(memory));
            MemorySegment attr = dnnl.attr(MemorySegment.NULL);
            r.own(attr, () -> dnnl.attrDestroy(attr));
            MemorySegment pd = dnnl.eltwise(engine, Dnnl.ELTWISE_RELU, desc, desc, 0, 0, attr,
                    "for measuring the fork and join of " + threads + " threads");
            r.own(pd, () -> dnnl.primitiveDescDestroy(pd));
            MemorySegment relu = dnnl.primitiveCreate(pd, "for measuring the fork and join");
            r.own(relu, () -> dnnl.primitiveDestroy(relu));
            MemorySegment stream = dnnl.streamCreate(engine);
            r.own(stream, () -> dnnl.streamDestroy(stream));
            MemorySegment args = r.allocate(Dnnl.EXEC_ARG_BYTES * 2, 8);
            args.set(JAVA_INT, 0, Dnnl.ARG_SRC);
            args.set(ADDRESS, 8, memory);
            args.set(JAVA_INT, Dnnl.EXEC_ARG_BYTES, Dnnl.ARG_DST);
            args.set(ADDRESS, Dnnl.EXEC_ARG_BYTES + 8, memory);
            long one = Long.MAX_VALUE;
            long shared = Long.MAX_VALUE;
            try {
                for (int i = 0; i < WARMUP; i++) {
                    timed(dnnl, relu, stream, args, 1);
                    timed(dnnl, relu, stream, args, threads);
                }
                // The fastest of many runs each: the JIT's compiler threads, which hold a core now
                // and then in a cold JVM, only lengthen the runs they touch, which a minimum drops.
                for (int i = 0; i < ROUNDS; i++) {
                    one = Math.min(one, timed(dnnl, relu, stream, args, 1));
                    shared = Math.min(shared, timed(dnnl, relu, stream, args, threads));
                }
            } finally {
                dnnl.setThreads(threads);
            }
            double least = shared - (double) one / threads;
            return Math.max(0, least / 1000);
        }
    }

    private static long timed(Dnnl dnnl, MemorySegment relu, MemorySegment stream, MemorySegment args, int threads) {
        dnnl.setThreads(threads);
        long start = System.nanoTime();
        dnnl.execute(relu, stream, 2, args, "the fork and join measurement");
        return System.nanoTime() - start;
    }
}
