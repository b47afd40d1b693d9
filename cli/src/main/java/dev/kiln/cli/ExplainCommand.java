package dev.kiln.cli;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.KilnException;
import dev.kiln.graph.Graph;
import dev.kiln.optimize.OptimizationReport;
import dev.kiln.runtime.ExecutionPlan;
import dev.kiln.runtime.InternalAccess;
import dev.kiln.spi.memory.MemoryPlan;
import dev.kiln.runtime.NodePlacement;
import dev.kiln.selection.Selection;
import dev.kiln.runtime.PartitionSummary;
import dev.kiln.spi.ProgramBuild;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code kiln explain}: what the optimizer did to a model, where its nodes run, and its memory plan. */
@Command(name = "explain", mixinStandardHelpOptions = true,
        description = "Show the optimizer's rewrites, op counts before and after, node placement and the memory plan.")
final class ExplainCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "NAME|FILE",
            description = "A model of the zoo (see 'kiln models') or an .onnx file.")
    String model;

    @Option(names = "--backend", paramLabel = "ID",
            description = "A backend id or auto. Default: $KILN_BACKEND, else auto.")
    String backend = Engine.configuredBackend();

    @Option(names = "--batch", paramLabel = "N", defaultValue = "1", description = "Batch size (default 1).")
    int batch;

    @Option(names = "--json", description = "Print JSON on stdout.")
    boolean json;

    @Mixin
    PinOption pin = new PinOption();

    /**
     * The JSON contract: op counts use ONNX op names for ops that came from ONNX; bytes are of
     * float32 activations at this batch size (weights are not counted). Fields are only ever
     * added: {@code partition_details} came after the others, then {@code compile_ms}: from checking
     * the backend asked for to the plan for this batch compiled (for {@code auto}, choosing it
     * included: a cache hit's lookup, or measuring the candidates on a miss), the model's file read
     * before it.
     */
    record Explanation(String model, String backend, int batch, Map<String, Integer> opsBefore,
                       Map<String, Integer> opsAfter, Map<String, Integer> passes, int rounds,
                       long plannedPeakBytes, long naiveActivationBytes, long largestActivationBytes,
                       int activationBuffers, Map<String, Integer> nodesPerBackend, int partitions,
                       SelectionReport selection, String device, long preparedWeightBytes, List<NodeRow> nodes,
                       List<BoundaryRow> boundaries, long boundaryHostBytesPerRun,
                       List<PartitionRow> partitionDetails, double compileMs) {
    }

    /**
     * A value one partition computes and later ones read: {@code crossing} is {@code resident}
     * (handed over in the backend's own form) or {@code host} (downloaded once, uploaded by each
     * reader); {@code host_bytes_per_run} is what that moves through host memory.
     */
    record BoundaryRow(String value, int fromPartition, List<Integer> toPartitions, long bytes, String crossing,
                       long hostBytesPerRun) {
    }

    /**
     * One compiled partition: its compile time and, for a backend that builds a device program
     * (opencl), where the program came from ({@code compiled}, {@code disk_cache} or
     * {@code memory_cache}) and how long that took; the three program fields are null for the others.
     */
    record PartitionRow(int index, String backend, int nodes, double compileMs, String description,
                        String programOrigin, Double programBuildMs, String programNote) {

        static PartitionRow of(PartitionSummary p) {
            Optional<ProgramBuild> build = p.programBuild();
            return new PartitionRow(p.index(), p.backend(), p.nodes(), roundMicros(p.compileMillis()), p.description(),
                    build.map(b -> b.origin().name().toLowerCase(Locale.ROOT)).orElse(null),
                    build.map(b -> roundMicros(b.millis())).orElse(null), build.map(ProgramBuild::note).orElse(null));
        }

        private static double roundMicros(double ms) {
            return Math.round(ms * 1000) / 1000.0;
        }
    }

    /** One node of the optimized graph: where it runs, which kernel from which provider, and how. */
    record NodeRow(String name, String op, String backend, int partition, String kernel, String provider,
                   String algorithm, String reason) {
    }

    @Override
    public Integer call() {
        if (batch < 1) {
            throw new ParameterException(spec.commandLine(), "--batch must be at least 1, got " + batch);
        }
        Engine engine = Engine.create();
        BackendChoice.requireKnown(engine, backend, spec.commandLine());
        ModelSource source = ModelSource.resolve(model, spec.commandLine());
        Explanation e;
        try (Graph graph = source.build(0)) {
            // Timed from the backend check: a named backend is probed there (its native library loaded),
            // auto's winner inside compile, so both pay the same work inside the time.
            long compileStarted = System.nanoTime();
            String backendId = BackendChoice.require(engine, backend, spec.commandLine());
            try (CompiledModel compiled = engine.compile(graph,
                    pin.applyTo(new CompileOptions(backendId, Engine.configuredDevice(), true)))) {
                e = explain(source, graph, compiled, compileStarted);
            }
        }
        return print(e);
    }

    private Explanation explain(ModelSource source, Graph graph, CompiledModel compiled, long compileStarted) {
        if (!graph.hasFixedShapesBesidesBatch()) {
            throw new KilnException(source.name() + " has input shapes " + graph.inputs()
                    + " that are open beyond the batch; explain needs fixed image sizes");
        }
        OptimizationReport report = compiled.optimization().orElseThrow();
        ExecutionPlan plan = InternalAccess.plan(compiled, batch);
        double compileMs = (System.nanoTime() - compileStarted) / 1e6;
        MemoryPlan memory = plan.wholeGraphMemoryPlan();
        Map<String, Integer> perBackend = new LinkedHashMap<>();
        for (NodePlacement p : plan.placements()) {
            perBackend.merge(p.backend(), 1, Integer::sum);
        }
        List<NodeRow> nodes = plan.placements().stream()
                .map(p -> new NodeRow(p.node(), p.op(), p.backend(), p.partition(), p.kernel(), p.provider(),
                        p.algorithm(), p.reason()))
                .toList();
        List<BoundaryRow> boundaries = plan.boundaries().stream()
                .map(b -> new BoundaryRow(b.name(), b.producer(), b.consumers(), b.hostBytes(),
                        b.resident() ? "resident" : "host", b.hostBytesPerRun()))
                .toList();
        Selection chosen = compiled.selectionForBatch(batch);
        return new Explanation(source.name(), chosen.winner(), batch, report.opsBefore(), report.opsAfter(),
                report.rewrites(), report.rounds(), memory.plannedBytes(), memory.naiveBytes(),
                memory.largestValueBytes(), memory.bufferCount(), perBackend, plan.partitions().size(),
                SelectionReport.of(chosen), compiled.device(), compiled.preparedWeightBytes(), nodes,
                boundaries, boundaries.stream().mapToLong(BoundaryRow::hostBytesPerRun).sum(),
                plan.partitionSummaries().stream().map(PartitionRow::of).toList(),
                Math.round(compileMs * 1000) / 1000.0);
    }

    private int print(Explanation e) {
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Json.print(out, e);
            return 0;
        }
        out.printf(Locale.ROOT, "%s, batch %d, on %s, compiled in %.0f ms%n%n", e.model(), e.batch(), e.backend(),
                e.compileMs());
        out.printf("passes (%d rounds):%n", e.rounds());
        e.passes().forEach((pass, n) -> out.printf(Locale.ROOT, "  %-28s %5d rewrites%n", pass, n));
        out.println();
        Table ops = new Table("op", "before", "after");
        Map<String, Integer> all = new LinkedHashMap<>(e.opsBefore());
        e.opsAfter().forEach(all::putIfAbsent);
        all.keySet().forEach(op -> ops.row(op, Integer.toString(e.opsBefore().getOrDefault(op, 0)),
                Integer.toString(e.opsAfter().getOrDefault(op, 0))));
        ops.row("total", Integer.toString(sum(e.opsBefore())), Integer.toString(sum(e.opsAfter())));
        ops.print(out);
        out.println();
        out.printf(Locale.ROOT, "memory plan: %s in %d shared buffers, against %s for one buffer per activation"
                        + " (%.1fx less); largest activation %s%n", mib(e.plannedPeakBytes()), e.activationBuffers(),
                mib(e.naiveActivationBytes()), (double) e.naiveActivationBytes() / e.plannedPeakBytes(),
                mib(e.largestActivationBytes()));
        out.printf("placement: %s in %d partition(s) on %s; prepared weights %s%n", e.nodesPerBackend(),
                e.partitions(), e.device(), mib(e.preparedWeightBytes()));
        List<String> pinned = e.nodes().stream().filter(n -> n.reason().startsWith("pinned"))
                .map(n -> n.name() + " -> " + n.backend()).toList();
        if (!pinned.isEmpty()) {
            out.printf("pinned: %s%n", String.join(", ", pinned));
        }
        e.selection().print(out);
        if (!e.boundaries().isEmpty()) {
            long resident = e.boundaries().stream().filter(b -> b.crossing().equals("resident")).count();
            out.printf(Locale.ROOT, "boundaries: %d value(s) cross between partitions, %d resident; %s through host"
                    + " memory per run%n", e.boundaries().size(), resident, mib(e.boundaryHostBytesPerRun()));
            Table crossings = new Table("value", "from", "to", "bytes", "crossing");
            e.boundaries().forEach(b -> crossings.row(b.value(), Integer.toString(b.fromPartition()),
                    b.toPartitions().toString(), Long.toString(b.bytes()), b.crossing()));
            crossings.print(out);
        }
        out.println("partitions:");
        for (PartitionRow p : e.partitionDetails()) {
            out.printf(Locale.ROOT, "  %d on %s: %d nodes, compiled in %.0f ms%s%n", p.index(), p.backend(), p.nodes(),
                    p.compileMs(), p.programOrigin() == null ? "" : "; device program " + programText(p));
            if (!p.description().isEmpty()) {
                out.printf("    %s%n", p.description());
            }
        }
        out.println();
        Table nodes = new Table("node", "op", "backend", "kernel", "provider", "algorithm");
        e.nodes().forEach(n -> nodes.row(n.name(), n.op(), n.backend(), n.kernel(), n.provider(), n.algorithm()));
        nodes.print(out);
        out.flush();
        return 0;
    }

    private static String programText(PartitionRow p) {
        return new ProgramBuild(ProgramBuild.Origin.valueOf(p.programOrigin().toUpperCase(Locale.ROOT)),
                p.programBuildMs(), p.programNote()).describe();
    }

    private static int sum(Map<String, Integer> counts) {
        return counts.values().stream().mapToInt(Integer::intValue).sum();
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.2f MiB", bytes / (1024.0 * 1024.0));
    }
}
