package dev.kiln.benchmarks;

import ai.onnxruntime.OrtException;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.models.onnx.OnnxImporter;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Latency of one forward pass of a network's ONNX export, on a Kiln backend or on ONNX Runtime
 * (CPU provider, all cores) in the same JVM: Kiln's speed targets are the ratio of the two
 * scores. The exports are the PyTorch parity fixtures ({@code scripts/prepare-test-fixtures.sh}).
 *
 * <pre>
 * java --sun-misc-unsafe-memory-access=allow -jar tests/target/kiln-benchmarks.jar ModelLatency \
 *     -p model=resnet50 -p engine=onnxruntime,reference
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
// JMH itself reads fields through sun.misc.Unsafe; allowing it keeps the JDK's warning out of the results.
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
public class ModelLatencyBenchmark {

    /** A folder of the fixtures: vgg16, googlenet, resnet50, mobilenet_v1, mobilenet_v2, efficientnet_b0. */
    @Param({"resnet50"})
    public String model;

    /** {@code onnxruntime}, or a Kiln backend id ({@code auto}, {@code reference}, ...). */
    @Param({"onnxruntime", "auto"})
    public String engine;

    @Param({"1"})
    public int batch;

    private Runner runner;

    /** One prepared forward pass. */
    private interface Runner extends AutoCloseable {
        void run() throws Exception;
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        Path file = ParityExports.locate().defaultExport(model);
        runner = engine.equals("onnxruntime") ? onnxRuntime(file) : kiln(file);
        runner.run(); // fail in set-up, not in the measurement
    }

    @Benchmark
    public void forward() throws Exception {
        runner.run();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        runner.close();
    }

    private Runner kiln(Path file) {
        Graph graph = OnnxImporter.load(file);
        CompiledModel compiled = Engine.create().compile(graph, engine);
        Shape shape = graph.inputShapesForBatch(batch).get(graph.inputs().getFirst().name());
        Tensor input = Tensor.of(shape, BenchmarkInput.standardNormal(shape));
        return new Runner() {
            @Override
            public void run() {
                compiled.run(input).close();
            }

            @Override
            public void close() {
                input.close();
                compiled.close();
                graph.close();
            }
        };
    }

    private Runner onnxRuntime(Path file) throws OrtException {
        OnnxRuntimeModel session = new OnnxRuntimeModel(file, batch, Runtime.getRuntime().availableProcessors());
        return new Runner() {
            @Override
            public void run() throws OrtException {
                session.run();
            }

            @Override
            public void close() throws OrtException {
                session.close();
            }
        };
    }
}
