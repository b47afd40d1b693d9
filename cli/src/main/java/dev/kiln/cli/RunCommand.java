package dev.kiln.cli;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.InvalidInputException;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ValueInfo;
import dev.kiln.models.io.Npy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/** {@code kiln run}: one forward pass of a model on an image batch from a file or a seeded random one. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run a model once and print its top-5 classes and the latency.")
final class RunCommand implements Callable<Integer> {
    private static final int TOP = 5;

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "NAME|FILE",
            description = "A model of the zoo (see 'kiln models') or an .onnx file.")
    String model;

    @Option(names = "--backend", paramLabel = "ID",
            description = "A backend id (see 'kiln backends') or auto. Default: $KILN_BACKEND, else auto.")
    String backend = Engine.configuredBackend();

    @Option(names = "--input", paramLabel = "FILE.npy",
            description = "Input batch [N, 3, H, W] as float32 or float64 .npy. Default: random normal(0, 1).")
    Path input;

    @Option(names = "--output", paramLabel = "FILE.npy", description = "Write the output tensor as float32 .npy.")
    Path output;

    @Option(names = "--batch", paramLabel = "N", description = "Batch size of the random input (default 1).")
    Integer batch;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42",
            description = "Seed of the weights and the random input (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", description = "Print JSON on stdout.")
    boolean json;

    /** {@code top5} holds, per batch item, five {@code [class index, value]} pairs, best first. */
    record Report(String model, String backend, int batch, int[] outputShape, List<List<List<Number>>> top5,
                  double latencyMs) {
    }

    @Override
    public Integer call() throws IOException {
        if (batch != null && batch < 1) {
            throw new ParameterException(spec.commandLine(), "--batch must be at least 1, got " + batch);
        }
        Engine engine = Engine.create();
        String backendId = BackendChoice.require(engine, backend, spec.commandLine());
        ModelSource source = ModelSource.resolve(model, spec.commandLine());
        try (Graph graph = source.build(seed);
             Tensor in = readOrGenerateInput(graph, source.name());
             CompiledModel compiled = engine.compile(graph, backendId)) {
            int n = in.shape().dim(0);
            compiled.planForBatch(n); // compile for this batch size now, so that the timed run only runs
            long start = System.nanoTime();
            try (Tensor out = compiled.run(in)) {
                double latencyMs = (System.nanoTime() - start) / 1e6;
                if (output != null) {
                    Npy.write(output, out);
                }
                List<List<TopK.Entry>> top = TopK.of(out, TOP);
                Report report = new Report(source.name(), compiled.backend(), n, out.shape().dims(),
                        top.stream().map(item -> item.stream().map(TopK.Entry::pair).toList()).toList(),
                        Math.round(latencyMs * 1000) / 1000.0);
                print(report, in.shape(), top);
            }
        }
        return 0;
    }

    private Tensor readOrGenerateInput(Graph graph, String modelName) throws IOException {
        ValueInfo declared = graph.inputs().getFirst();
        if (input == null) {
            Shape shape = graph.inputShapesForBatch(batch == null ? 1 : batch).get(declared.name());
            return RandomInput.normal(shape, seed);
        }
        Tensor tensor = Npy.read(input);
        Shape shape = tensor.shape();
        String problem = null;
        if (!declared.shape().accepts(shape)) {
            problem = "model " + modelName + " expects " + declared.shape() + " ([batch, channels, height, width])";
        } else if (batch != null && batch != shape.dim(0)) {
            problem = "--batch " + batch + " disagrees with its batch of " + shape.dim(0) + " (leave --batch out)";
        }
        if (problem != null) {
            tensor.close();
            throw new InvalidInputException(input + " holds a " + shape + " tensor, but " + problem);
        }
        return tensor;
    }

    private void print(Report report, Shape inputShape, List<List<TopK.Entry>> top) {
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Json.print(out, report);
            return;
        }
        String inputOrigin = input != null ? input.toString() : "random normal(0, 1), seed " + seed;
        out.printf(Locale.ROOT, "model     %s%n", report.model());
        out.printf(Locale.ROOT, "backend   %s%n", report.backend());
        out.printf(Locale.ROOT, "input     %s, %s%n", inputShape, inputOrigin);
        out.printf(Locale.ROOT, "output    %s%s%n", Shape.of(report.outputShape()),
                output != null ? ", written to " + output : "");
        out.printf(Locale.ROOT, "latency   %.2f ms%n", report.latencyMs());
        for (int item = 0; item < top.size(); item++) {
            String classes = top.get(item).stream()
                    .map(e -> String.format(Locale.ROOT, "%d (%.4g)", e.index(), e.value()))
                    .collect(Collectors.joining(", "));
            out.printf(Locale.ROOT, "top-%d%s  %s%n", TOP, top.size() > 1 ? " of item " + item : "", classes);
        }
        out.flush();
    }
}
