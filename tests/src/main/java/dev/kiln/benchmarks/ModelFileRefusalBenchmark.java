package dev.kiln.benchmarks;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.KilnException;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.models.onnx.OnnxImporter;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * How long a hostile or malformed model file takes to end: import, compilation on the reference
 * backend under a 1 GB memory limit and, for the few that are valid, a run at batch 1, as
 * {@code HostileModelsTest} does through the API. That test only guards against a hang; a
 * refusal that got slow (a validation that walks a huge declared shape, say) shows here. The
 * files are the CLI tests' ({@code cli/src/test/resources/hostile/}, written by
 * {@code scripts/make-hostile-models.py}), read from the repository the benchmark is run in.
 *
 * <pre>
 * java --sun-misc-unsafe-memory-access=allow -jar tests/target/kiln-benchmarks.jar ModelFileRefusal \
 *     -f 1 -wi 2 -w 1 -i 3 -r 1 [-p file=huge_input_20000x20000.onnx,cycle.onnx]
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
// JMH itself reads fields through sun.misc.Unsafe; allowing it keeps the JDK's warning out of the results.
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
public class ModelFileRefusalBenchmark {
    /** The hostile files of {@code expectations.tsv}. */
    @Param({"conv_dilation_int_max.onnx", "maxpool_dilation_int_max.onnx", "conv_pads_int_max.onnx",
            "conv_stride_zero.onnx", "conv_stride_negative.onnx", "conv_kernel_larger_than_input.onnx",
            "conv_same_upper_huge_stride.onnx", "conv_same_lower_huge_stride.onnx", "input_dims_overflow.onnx",
            "conv_weight_rank0.onnx", "conv_weight_rank1.onnx", "no_outputs.onnx", "duplicate_input_names.onnx",
            "opset_zero.onnx", "opset_negative.onnx", "relu_three_inputs.onnx", "cycle.onnx",
            "undefined_output.onnx", "bad_groups.onnx", "invalid_conv_before_shape.onnx",
            "huge_input_20000x20000.onnx", "duplicate_output.onnx"})
    public String file;

    private Path path;
    private final Engine engine = Engine.create(EngineOptions.defaults().withMaxMemoryBytes(1L << 30));

    @Setup
    public void locate() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path hostile = dir.resolve("cli/src/test/resources/hostile");
            if (Files.isDirectory(hostile)) {
                path = hostile.resolve(file);
                if (!Files.isRegularFile(path)) {
                    throw new IllegalStateException(path + " does not exist");
                }
                return;
            }
        }
        throw new IllegalStateException("run from inside the Kiln repository: no cli/src/test/resources/hostile above "
                + Path.of("").toAbsolutePath());
    }

    /** Whether the file ran (true) or was refused with a {@link KilnException} (false). */
    @Benchmark
    public boolean end() {
        try (Graph graph = OnnxImporter.load(path); CompiledModel model = engine.compile(graph, "reference")) {
            Map<String, Tensor> inputs = new HashMap<>();
            try {
                for (Map.Entry<String, Shape> e : graph.inputShapesForBatch(1).entrySet()) {
                    inputs.put(e.getKey(), Tensor.allocate(e.getValue()));
                }
                model.run(inputs).values().forEach(Tensor::close);
            } finally {
                inputs.values().forEach(Tensor::close);
            }
            return true;
        } catch (KilnException refused) {
            return false;
        }
    }
}
