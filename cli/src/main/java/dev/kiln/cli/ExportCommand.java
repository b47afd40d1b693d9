package dev.kiln.cli;

import dev.kiln.graph.Graph;
import dev.kiln.models.onnx.OnnxExporter;
import dev.kiln.optimize.OptimizationReport;
import dev.kiln.optimize.Optimizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code kiln export}: a model as a standard ONNX file (see {@link OnnxExporter}). */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Write a model as a standard ONNX file (opset " + OnnxExporter.OPSET + ") that ONNX Runtime"
                + " and other engines load.", "Kiln's fused forms are written as the standard ops they stand for."})
final class ExportCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "NAME|FILE",
            description = "A model of the zoo (see 'kiln models') or an .onnx file.")
    String model;

    @Option(names = "--output", required = true, paramLabel = "FILE.onnx", description = "The file to write.")
    Path output;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42",
            description = "Seed of the weights (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--optimized", description = "Write the graph as Kiln's optimizer leaves it (batch-norm folded,"
            + " epilogues fused, then written back as standard ops) instead of as built.")
    boolean optimized;

    @Override
    public Integer call() throws IOException {
        ModelSource source = ModelSource.resolve(model, spec.commandLine());
        try (Graph graph = source.build(seed)) {
            OptimizationReport report = optimized && graph.hasFixedShapesBesidesBatch()
                    ? new Optimizer().optimize(graph) : null;
            try {
                OnnxExporter.write(report == null ? graph : report.graph(), output);
            } finally {
                if (report != null) {
                    report.graph().close();
                }
            }
        }
        spec.commandLine().getOut().printf(Locale.ROOT, "wrote %s (%d bytes)%n", output, Files.size(output));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
