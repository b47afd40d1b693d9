package dev.kiln.cli;

import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.Shape;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ValueInfo;
import dev.kiln.models.onnx.OnnxImporter;
import dev.kiln.models.onnx.OnnxSummary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code kiln inspect}: what an ONNX file holds, and whether Kiln can run it here: every op
 * supported and one run at batch 1 within the memory limit. A file with ops Kiln does not run, or
 * too large to run here, is still described (exit code 0); only a file that cannot be read fails.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Describe an ONNX file: opsets, IR version, producer, inputs and outputs with their shapes"
                + " ('?' for a symbolic dimension), op counts, parameters, the ops Kiln cannot run, and the memory one"
                + " run at batch 1 needs against the memory limit (--max-memory)."})
final class InspectCommand implements Callable<Integer> {
    /** How ONNX's default operator domain, the empty string in the file, is shown. */
    static final String DEFAULT_DOMAIN = "ai.onnx";

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "MODEL.onnx", description = "The ONNX file.")
    Path file;

    @Option(names = "--json", description = "Print JSON on stdout.")
    boolean json;

    /**
     * The JSON contract; a shape is a list of sizes with {@code "?"} for a symbolic dimension.
     * {@code memoryPerRunBytes} is what one run at batch 1 needs by the engine's memory check,
     * null where it cannot be known (ops Kiln does not run, input sizes open beyond the batch);
     * {@code runnable} says whether Kiln can run the model here: every op supported and a run
     * within {@code memoryLimitBytes} (null: not known).
     */
    record Inspection(String file, long irVersion, Map<String, Long> opsets, String producer, List<Value> inputs,
                      List<Value> outputs, Map<String, Integer> opCounts, long params, List<String> unsupportedOps,
                      Long memoryPerRunBytes, long memoryLimitBytes, Boolean runnable) {
    }

    /** A graph input or output. */
    record Value(String name, List<Object> shape) {
        static Value of(ValueInfo info) {
            List<Object> dims = new ArrayList<>();
            for (int d : info.shape().dims()) {
                dims.add(d == Shape.DYNAMIC ? "?" : d);
            }
            return new Value(info.name(), dims);
        }

        @Override
        public String toString() {
            return name + " " + shape.stream().map(String::valueOf).collect(Collectors.joining(", ", "[", "]"));
        }
    }

    @Override
    public Integer call() {
        OnnxSummary summary = OnnxImporter.inspect(file);
        Map<String, Long> opsets = new LinkedHashMap<>();
        summary.opsets().forEach((domain, version) -> opsets.put(domain.isEmpty() ? DEFAULT_DOMAIN : domain, version));
        Long memory = summary.isSupported() ? memoryPerRun(file) : null;
        long limit = EngineOptions.configuredMaxMemory();
        Boolean runnable = !summary.isSupported() ? Boolean.FALSE : memory == null ? null : memory <= limit;
        Inspection inspection = new Inspection(file.toString(), summary.irVersion(), opsets, summary.producer(),
                summary.inputs().stream().map(Value::of).toList(), summary.outputs().stream().map(Value::of).toList(),
                summary.opCounts(), summary.parameterCount(), summary.unsupportedOps(), memory, limit, runnable);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Json.print(out, inspection);
            return 0;
        }
        print(out, inspection);
        return 0;
    }

    /**
     * What one run at batch 1 needs, by the memory check that compiling the model makes; null
     * when the input sizes are open beyond the batch (they are known only at run time).
     */
    private static Long memoryPerRun(Path file) {
        try (Graph graph = OnnxImporter.load(file)) {
            if (!graph.hasFixedShapesBesidesBatch()) {
                return null;
            }
            return Engine.memoryPerRun(graph, graph.inputShapesForBatch(1));
        }
    }

    private static void print(PrintWriter out, Inspection e) {
        out.printf(Locale.ROOT, "file          %s%n", e.file());
        out.printf(Locale.ROOT, "producer      %s%n", e.producer().isEmpty() ? "(not given)" : e.producer());
        out.printf(Locale.ROOT, "ir version    %d%n", e.irVersion());
        out.printf(Locale.ROOT, "opsets        %s%n", e.opsets().entrySet().stream()
                .map(o -> o.getKey() + " " + o.getValue()).collect(Collectors.joining(", ")));
        e.inputs().forEach(v -> out.printf(Locale.ROOT, "input         %s%n", v));
        e.outputs().forEach(v -> out.printf(Locale.ROOT, "output        %s%n", v));
        out.printf(Locale.ROOT, "parameters    %,d%n", e.params());
        if (e.memoryPerRunBytes() != null) {
            out.printf(Locale.ROOT, "memory        %s per run at batch 1, limit %s%n",
                    EngineOptions.describeBytes(e.memoryPerRunBytes()),
                    EngineOptions.describeBytes(e.memoryLimitBytes()));
        } else if (e.unsupportedOps().isEmpty()) {
            out.printf(Locale.ROOT, "memory        not known before a run: input sizes are open beyond the batch%n");
        }
        String verdict;
        if (!e.unsupportedOps().isEmpty()) {
            verdict = String.join(", ", e.unsupportedOps()) + " (Kiln cannot run this model)";
        } else if (Boolean.FALSE.equals(e.runnable())) {
            verdict = "none, but a run needs more memory than the limit (--max-memory, " + EngineOptions.MAX_MEMORY_ENV
                    + "): Kiln cannot run this model here";
        } else {
            verdict = "none: Kiln can run this model";
        }
        out.printf(Locale.ROOT, "unsupported   %s%n", verdict);
        out.println();
        Table ops = new Table("op", "nodes");
        e.opCounts().forEach((op, n) -> ops.row(op, Integer.toString(n)));
        ops.row("total", Integer.toString(e.opCounts().values().stream().mapToInt(Integer::intValue).sum()));
        ops.print(out);
        out.flush();
    }
}
