package dev.kiln.cli;

import dev.kiln.Shape;
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
 * {@code kiln inspect}: what an ONNX file holds, and whether Kiln can run it. A file with ops
 * Kiln does not run is still described (exit code 0); only a file that cannot be read fails.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Describe an ONNX file: opsets, IR version, producer, inputs and outputs with their shapes"
                + " ('?' for a symbolic dimension), op counts, parameters, and the ops Kiln cannot run."})
final class InspectCommand implements Callable<Integer> {
    /** How ONNX's default operator domain, the empty string in the file, is shown. */
    static final String DEFAULT_DOMAIN = "ai.onnx";

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "MODEL.onnx", description = "The ONNX file.")
    Path file;

    @Option(names = "--json", description = "Print JSON on stdout.")
    boolean json;

    /** The JSON contract; a shape is a list of sizes with {@code "?"} for a symbolic dimension. */
    record Inspection(String file, long irVersion, Map<String, Long> opsets, String producer, List<Value> inputs,
                      List<Value> outputs, Map<String, Integer> opCounts, long params, List<String> unsupportedOps) {
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
        Inspection inspection = new Inspection(file.toString(), summary.irVersion(), opsets, summary.producer(),
                summary.inputs().stream().map(Value::of).toList(), summary.outputs().stream().map(Value::of).toList(),
                summary.opCounts(), summary.parameterCount(), summary.unsupportedOps());
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Json.print(out, inspection);
            return 0;
        }
        print(out, inspection);
        return 0;
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
        out.printf(Locale.ROOT, "unsupported   %s%n", e.unsupportedOps().isEmpty()
                ? "none: Kiln can run this model"
                : String.join(", ", e.unsupportedOps()) + " (Kiln cannot run this model)");
        out.println();
        Table ops = new Table("op", "nodes");
        e.opCounts().forEach((op, n) -> ops.row(op, Integer.toString(n)));
        ops.row("total", Integer.toString(e.opCounts().values().stream().mapToInt(Integer::intValue).sum()));
        ops.print(out);
        out.flush();
    }
}
