package dev.kiln.benchmarks;

import dev.kiln.cpusimd.MachinePeak;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The speed side of {@link MachinePeak}'s probe, which its unit tests leave alone: how long one
 * measurement takes in a fresh JVM (C2 compiling the FMA chains included: the probe must stay well
 * under a second, since {@code kiln bench --profile} pays it once per process) and how much its
 * figure varies from one JVM to the next. One cold {@link MachinePeak#measure} per fork, ten forks:
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -jar tests/target/kiln-benchmarks.jar MachinePeak [-p threads=1]
 * </pre>
 *
 * <p>JMH's score is the probe's time (single shot, ms); each fork also prints a line such as
 * {@code MachinePeak threads=1: 231.7 GFLOP/s FP32 on 1 thread (512-bit vectors, 24 FMA chains per
 * thread, measured) in 182 ms}: {@code grep '^MachinePeak'} collects the figures. Run it on a quiet
 * host ({@code /proc/loadavg}): another busy process lowers both the figure and the probe's speed.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 0)
@Measurement(iterations = 1)
@Fork(value = 10, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--sun-misc-unsafe-memory-access=allow"})
public class MachinePeakBenchmark {
    @Param({"1", "2"})
    public int threads;

    private MachinePeak peak;
    private long nanos;

    @Benchmark
    public MachinePeak probe() {
        long start = System.nanoTime();
        peak = MachinePeak.measure(threads);
        nanos = System.nanoTime() - start;
        return peak;
    }

    @TearDown(Level.Trial)
    public void report() {
        System.out.println();
        System.out.println(peak == null ? "MachinePeak threads=" + threads + ": not measured"
                : String.format(Locale.ROOT, "MachinePeak threads=%d: %s in %.0f ms", threads, peak.describe(),
                nanos / 1e6));
    }
}
