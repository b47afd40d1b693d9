package dev.kiln.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.models.image.TopClasses;
import dev.kiln.models.io.Npy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code kiln run}: one forward pass of a model on inputs from {@code .npy} files, on a photo, or
 * on seeded random ones. Its JSON keys are a contract for scripts; keys are only ever added.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run a model once and print its top-5 classes and the latency.",
                "For an ImageNet classifier (1000 outputs) the classes are named, with their probabilities."})
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

    @Option(names = "--input", paramLabel = "[NAME=]FILE.npy",
            description = {"An input as float32 or float64 .npy, [N, 3, H, W] for an image model. A model with"
                    + " several inputs takes one --input NAME=FILE.npy per input.",
                    "Default: random normal(0, 1)."})
    List<String> inputs;

    @Option(names = "--image", paramLabel = "FILE",
            description = "A photo (JPEG, PNG, ...) as the model's input, preprocessed as torchvision does for"
                    + " ImageNet: shorter side to 256, centre crop 224 (scaled for another input size), mean/std"
                    + " normalisation.")
    Path image;

    @Option(names = "--output", paramLabel = "FILE.npy",
            description = "Write the output tensor as float32 .npy (a model with one output).")
    Path output;

    @Option(names = "--output-dir", paramLabel = "DIR",
            description = "Write every output as DIR/<output name>.npy; characters of the name other than letters,"
                    + " digits, '.', '-' and '_' become '_'.")
    Path outputDir;

    @Option(names = "--batch", paramLabel = "N", description = "Batch size of random inputs (default 1).")
    Integer batch;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42",
            description = "Seed of the weights and the random input (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", description = "Print JSON on stdout.")
    boolean json;

    @Mixin
    PinOption pin = new PinOption();

    /**
     * What {@code run} prints as JSON. {@code output_shape} and {@code top5} are of the first
     * output; {@code top5} holds, per batch item, five {@code [class index, value]} pairs, best
     * first. {@code labels}, only for an ImageNet classifier, names the same classes with
     * probabilities.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Report(String model, String backend, int batch, int[] outputShape, List<List<List<Number>>> top5,
                  double latencyMs, List<InputReport> inputs, List<OutputReport> outputs,
                  List<List<Prediction>> labels) {
    }

    /** One ImageNet class of an item as {@code labels} lists it. */
    record Prediction(int index, String label, double probability) {
    }

    /** A model input and where its values came from. */
    record InputReport(String name, int[] shape, String source) {
    }

    /** A model output; {@code file} when it was written. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record OutputReport(String name, int[] shape, String file) {
    }

    @Override
    public Integer call() throws IOException {
        checkOptions();
        Engine engine = Engine.create();
        String backendId = BackendChoice.require(engine, backend, spec.commandLine());
        ModelSource source = ModelSource.resolve(model, spec.commandLine());
        try (Graph graph = source.build(seed)) {
            checkOutputOptions(graph);
            // Compiled before any input is made: a plan over the memory limit fails here, at once.
            try (CompiledModel compiled = engine.compile(graph, pin.applyTo(CompileOptions.defaults().withBackend(backendId)))) {
                // On stderr: stdout may be JSON, and this is about speed, not about the result.
                compiled.optimizerSkipped().ifPresent(why -> spec.commandLine().getErr().println("kiln: note: " + why));
                try (ModelInputs in = readInputs(engine, graph, source.name())) {
                    run(compiled, graph, in, source.name());
                }
            }
        }
        return 0;
    }

    private void run(CompiledModel compiled, Graph graph, ModelInputs in, String modelName) throws IOException {
        int n = in.batch();
        prepare(compiled, graph, in, n);
        long start = System.nanoTime();
        Map<String, Tensor> outs = compiled.run(in.tensors());
        double latencyMs = (System.nanoTime() - start) / 1e6;
        try {
            report(modelName, compiled.backend(), n, Math.round(latencyMs * 1000) / 1000.0, graph, in, outs);
        } finally {
            outs.values().forEach(Tensor::close);
        }
    }

    private void checkOptions() {
        if (batch != null && batch < 1) {
            throw usage("--batch must be at least 1, got " + batch);
        }
        if (image != null && inputs != null) {
            throw usage("--image and --input are alternatives: give one of them");
        }
        if (image != null && batch != null && batch != 1) {
            throw usage("--image makes a batch of 1; leave --batch out");
        }
    }

    private void checkOutputOptions(Graph graph) {
        if (output != null && graph.outputs().size() != 1) {
            throw usage("--output needs a model with one output; this one has " + graph.outputs().size() + " ("
                    + String.join(", ", graph.outputs()) + "): use --output-dir");
        }
    }

    /** Compiles the plan for these input shapes now, so that the timed run only runs. */
    private static void prepare(CompiledModel compiled, Graph graph, ModelInputs in, int n) {
        if (graph.hasFixedShapesBesidesBatch() && in.shapes().equals(graph.inputShapesForBatch(n))) {
            compiled.planForBatch(n);
        } else {
            // Shapes with symbolic dimensions beyond the batch: a first run compiles their plan.
            compiled.run(in.tensors()).values().forEach(Tensor::close);
        }
    }

    private ModelInputs readInputs(Engine engine, Graph graph, String modelName) throws IOException {
        if (image != null) {
            return ModelInputs.fromImage(graph, modelName, image, spec.commandLine());
        }
        if (inputs != null) {
            return ModelInputs.fromFiles(graph, modelName, inputs, batch, spec.commandLine());
        }
        return ModelInputs.random(graph, batch, seed, engine, spec.commandLine());
    }

    private void report(String modelName, String backendId, int n, double latencyMs, Graph graph, ModelInputs in,
                        Map<String, Tensor> outs) throws IOException {
        Map<String, String> files = writeOutputs(graph, outs);
        Tensor first = outs.get(graph.outputs().getFirst());
        List<List<TopClasses.Ranked>> top = first.shape().rank() == 0 || first.shape().dim(0) == 0 ? List.of()
                : TopClasses.of(first, TOP);
        boolean imageNet = !top.isEmpty() && top.getFirst().getFirst().label() != null; // 1000 classes per item
        List<List<Prediction>> labels = !imageNet ? null : top.stream()
                .map(item -> item.stream().map(r -> new Prediction(r.index(), r.label(), r.probability())).toList())
                .toList();
        List<InputReport> inputReports = new ArrayList<>();
        in.tensors().forEach((name, t) -> inputReports.add(new InputReport(name, t.shape().dims(),
                in.sources().get(name))));
        List<OutputReport> outputReports = new ArrayList<>();
        outs.forEach((name, t) -> outputReports.add(new OutputReport(name, t.shape().dims(), files.get(name))));
        List<List<List<Number>>> pairs = top.stream()
                .map(item -> item.stream().map(r -> List.<Number>of(r.index(), r.score())).toList()).toList();
        Report report = new Report(modelName, backendId, n, first.shape().dims(), pairs, latencyMs,
                inputReports, outputReports, labels);
        print(report, top);
    }

    /** Writes what --output and --output-dir ask for; returns the files by output name. */
    private Map<String, String> writeOutputs(Graph graph, Map<String, Tensor> outs) throws IOException {
        Map<String, String> written = new LinkedHashMap<>();
        if (output != null) {
            Npy.write(output, outs.get(graph.outputs().getFirst()));
            written.put(graph.outputs().getFirst(), output.toString());
        }
        if (outputDir != null) {
            Files.createDirectories(outputDir);
            for (Map.Entry<String, String> e : OutputFileNames.of(graph.outputs()).entrySet()) {
                Path file = outputDir.resolve(e.getValue());
                Npy.write(file, outs.get(e.getKey()));
                written.put(e.getKey(), file.toString());
            }
        }
        return written;
    }

    private void print(Report report, List<List<TopClasses.Ranked>> top) {
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Json.print(out, report);
            return;
        }
        out.printf(Locale.ROOT, "model     %s%n", report.model());
        out.printf(Locale.ROOT, "backend   %s%n", report.backend());
        boolean oneInput = report.inputs().size() == 1;
        for (InputReport in : report.inputs()) {
            out.printf(Locale.ROOT, "input     %s%s, %s%n", oneInput ? "" : in.name() + " ", Shape.of(in.shape()),
                    in.source());
        }
        boolean oneOutput = report.outputs().size() == 1;
        for (OutputReport o : report.outputs()) {
            out.printf(Locale.ROOT, "output    %s%s%s%n", oneOutput ? "" : o.name() + " ", Shape.of(o.shape()),
                    o.file() != null ? ", written to " + o.file() : "");
        }
        out.printf(Locale.ROOT, "latency   %.2f ms%n", report.latencyMs());
        for (int item = 0; item < top.size(); item++) {
            String heading = "top-" + TOP + (top.size() > 1 ? " of item " + item : "");
            if (report.labels() == null) {
                String classes = top.get(item).stream()
                        .map(e -> String.format(Locale.ROOT, "%d (%.4g)", e.index(), e.score()))
                        .collect(Collectors.joining(", "));
                out.printf(Locale.ROOT, "%s  %s%n", heading, classes);
                continue;
            }
            String indent = " ".repeat(heading.length());
            List<Prediction> predictions = report.labels().get(item);
            for (int rank = 0; rank < predictions.size(); rank++) {
                Prediction p = predictions.get(rank);
                out.printf(Locale.ROOT, "%s  %6.2f%%  %s (%d)%n", rank == 0 ? heading : indent,
                        p.probability() * 100, p.label(), p.index());
            }
        }
        out.flush();
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
