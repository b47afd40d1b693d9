package dev.kiln.cpusimd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.DoubleAdder;

/**
 * The measuring side of {@link MachinePeak}: independent fused multiply-add chains at the
 * preferred species, nothing else in the loop (no loads, no stores), timed on one or more platform
 * threads at once. One chain's next FMA waits for its last one (4 or 5 cycles on current x86 and
 * ARM cores) and a core issues two or more per cycle, so a core reaches its peak only with about ten
 * chains in flight: 12 accumulators where C2 allocates from 16 vector registers (AVX2: 12 plus the
 * two multiplicands fit, more would spill), 24 where it has 32 (AVX-512, NEON). The loop is written
 * out with named accumulators because C2 keeps locals, not arrays, in registers.
 */
final class FmaChains {
    static final VectorSpecies<Float> SPECIES = BlockedLayout.SPECIES;
    /** Iterations per call while timing: a few microseconds, fine enough to stop near a deadline. */
    private static final int CHUNK = 2048;
    /** The warm-up's limit, for a host too busy to compile. */
    private static final long MAX_WARMUP_NANOS = 3_000_000_000L;
    /** Vector FMAs per nanosecond that only compiled code reaches (see {@link #warmUp()}). */
    static final double COMPILED_FMAS_PER_NANO = 0.25;
    /** Whether this process has seen the 12- and the 24-chain loop compiled (a hint: a stale false costs a warm-up). */
    private static final boolean[] COMPILED = new boolean[2];
    /**
     * Iterations per call while warming up: C2 is asked for after enough calls as well as loop
     * iterations, so short calls get there with fewer interpreted FMAs. In fresh JVMs, alternated
     * (2-core host, load 17-21): 16 took 0.8-1.2 s to the first figure, 64 took 1.3-2.2 s, 4 no less
     * than 16.
     */
    private static final int WARMUP_CHUNK = 16;
    private static final long WARMUP_WINDOW_NANOS = 10_000_000L;
    /** Timed rounds per measurement, the best kept: a round that another process interrupted reads low. */
    static final int ROUNDS = 3;
    static final long ROUND_NANOS = 40_000_000L;

    /** Where the chains' sums go, so that C2 cannot drop the loop as dead code. */
    private static volatile float sink;

    private final int accumulators;

    /** @param vectorRegisters the registers C2 allocates from ({@link RegisterTiles#vectorRegisters()}) */
    FmaChains(int vectorRegisters) {
        this.accumulators = vectorRegisters >= 32 ? 24 : 12;
    }

    int accumulators() {
        return accumulators;
    }

    /** FLOPs of one iteration: every accumulator's FMA, two FLOPs per lane. */
    double flopsPerIteration() {
        return 2.0 * accumulators * SPECIES.length();
    }

    /**
     * Runs the chains until C2 has compiled them and their speed stops rising. Short calls while
     * interpreted, since the interpreter and C1 run each vector operation as an allocated object
     * (C2 is asked for after some thousands of calls and loop iterations). Compiled is told by speed:
     * interpreted or C1 code does well under {@value #COMPILED_FMAS_PER_NANO} vector FMAs per
     * nanosecond (at most 0.07 measured here, on a busy host), C2's code 10 or more even at 128 bits;
     * from there, 10 ms windows until three in a row bring no gain of 2%. C2 takes tens of
     * milliseconds on an idle host, up to a second on a busy one; past {@link #MAX_WARMUP_NANOS} the
     * probe measures what it has (and reads low).
     */
    void warmUp() {
        long start = System.nanoTime();
        double best = 0;
        int sinceBetter = 0;
        boolean compiled = COMPILED[accumulators == 24 ? 1 : 0];
        while (System.nanoTime() - start < MAX_WARMUP_NANOS && sinceBetter < 3) {
            long began = System.nanoTime();
            long iterations = 0;
            long now;
            do {
                run(WARMUP_CHUNK);
                iterations += WARMUP_CHUNK;
                now = System.nanoTime();
            } while (now - began < WARMUP_WINDOW_NANOS);
            double fmasPerNano = iterations * accumulators / (double) (now - began);
            compiled |= fmasPerNano >= COMPILED_FMAS_PER_NANO;
            if (!compiled) {
                continue;
            }
            if (fmasPerNano > best * 1.02) {
                best = fmasPerNano;
                sinceBetter = 0;
            } else {
                sinceBetter++;
            }
        }
        COMPILED[accumulators == 24 ? 1 : 0] = compiled;
    }

    /**
     * FLOP/s on {@code threads} platform threads at once: each runs the chains for a round, the
     * threads' rates are added; the best of {@link #ROUNDS} rounds.
     */
    double flopsPerSecond(int threads) throws InterruptedException {
        double best = 0;
        for (int round = 0; round < ROUNDS; round++) {
            best = Math.max(best, round(threads));
        }
        return best;
    }

    private double round(int threads) throws InterruptedException {
        DoubleAdder total = new DoubleAdder();
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Thread> workers = new ArrayList<>();
        List<Throwable> failures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            workers.add(Thread.ofPlatform().name("kiln-machine-peak-" + t).daemon().start(() -> {
                try {
                    start.await();
                    long began = System.nanoTime();
                    long deadline = began + ROUND_NANOS;
                    long iterations = 0;
                    long now;
                    do {
                        run(CHUNK);
                        iterations += CHUNK;
                        now = System.nanoTime();
                    } while (now < deadline);
                    total.add(iterations * flopsPerIteration() / ((now - began) / 1e9));
                } catch (Throwable e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                }
            }));
        }
        for (Thread w : workers) {
            w.join();
        }
        if (!failures.isEmpty()) {
            throw new IllegalStateException("the machine peak probe failed on a thread", failures.getFirst());
        }
        return total.sum();
    }

    /** {@code iterations} steps of every chain. */
    void run(int iterations) {
        sink = accumulators == 24 ? chains24(iterations) : chains12(iterations);
    }

    private static FloatVector start(int chain) {
        return FloatVector.broadcast(SPECIES, chain);
    }

    private static float chains12(int iterations) {
        FloatVector x = FloatVector.broadcast(SPECIES, 1e-7f), y = FloatVector.broadcast(SPECIES, 0.5f);
        // Distinct starting values, so that no compiler could take two chains for one.
        FloatVector a0 = start(0), a1 = start(1), a2 = start(2), a3 = start(3), a4 = start(4), a5 = start(5),
                a6 = start(6), a7 = start(7), a8 = start(8), a9 = start(9), a10 = start(10), a11 = start(11);
        for (int i = 0; i < iterations; i++) {
            a0 = x.fma(y, a0);
            a1 = x.fma(y, a1);
            a2 = x.fma(y, a2);
            a3 = x.fma(y, a3);
            a4 = x.fma(y, a4);
            a5 = x.fma(y, a5);
            a6 = x.fma(y, a6);
            a7 = x.fma(y, a7);
            a8 = x.fma(y, a8);
            a9 = x.fma(y, a9);
            a10 = x.fma(y, a10);
            a11 = x.fma(y, a11);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }

    private static float chains24(int iterations) {
        FloatVector x = FloatVector.broadcast(SPECIES, 1e-7f), y = FloatVector.broadcast(SPECIES, 0.5f);
        FloatVector a0 = start(0), a1 = start(1), a2 = start(2), a3 = start(3), a4 = start(4), a5 = start(5),
                a6 = start(6), a7 = start(7), a8 = start(8), a9 = start(9), a10 = start(10), a11 = start(11);
        FloatVector b0 = start(12), b1 = start(13), b2 = start(14), b3 = start(15), b4 = start(16), b5 = start(17),
                b6 = start(18), b7 = start(19), b8 = start(20), b9 = start(21), b10 = start(22), b11 = start(23);
        for (int i = 0; i < iterations; i++) {
            a0 = x.fma(y, a0);
            a1 = x.fma(y, a1);
            a2 = x.fma(y, a2);
            a3 = x.fma(y, a3);
            a4 = x.fma(y, a4);
            a5 = x.fma(y, a5);
            a6 = x.fma(y, a6);
            a7 = x.fma(y, a7);
            a8 = x.fma(y, a8);
            a9 = x.fma(y, a9);
            a10 = x.fma(y, a10);
            a11 = x.fma(y, a11);
            b0 = x.fma(y, b0);
            b1 = x.fma(y, b1);
            b2 = x.fma(y, b2);
            b3 = x.fma(y, b3);
            b4 = x.fma(y, b4);
            b5 = x.fma(y, b5);
            b6 = x.fma(y, b6);
            b7 = x.fma(y, b7);
            b8 = x.fma(y, b8);
            b9 = x.fma(y, b9);
            b10 = x.fma(y, b10);
            b11 = x.fma(y, b11);
        }
        FloatVector a = a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11);
        FloatVector b = b0.add(b1).add(b2).add(b3).add(b4).add(b5).add(b6).add(b7).add(b8).add(b9).add(b10).add(b11);
        return a.add(b).reduceLanes(VectorOperators.ADD);
    }
}
