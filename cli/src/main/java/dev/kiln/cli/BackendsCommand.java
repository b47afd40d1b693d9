package dev.kiln.cli;

import dev.kiln.Engine;
import dev.kiln.SelectionPolicy;
import dev.kiln.graph.ops.ProvidedOp;
import dev.kiln.spi.Device;
import dev.kiln.spi.OpRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/** {@code kiln backends}: what was discovered, what can run here, and what {@code auto} picks. */
@Command(name = "backends", mixinStandardHelpOptions = true,
        description = "List the backends found on the class path, whether each can run here, and the one auto picks;"
                + " then the ops that plugins add.")
final class BackendsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "Print JSON on stdout.")
    boolean json;

    /** {@code global_memory_bytes} and {@code compute_units} are null when the backend does not know them. */
    record DeviceRow(String id, String name, String kind, Long globalMemoryBytes, Integer computeUnits) {

        /** How the text table shows it: {@code 0 (name; gpu, 80 compute units, 16.0 GiB)}. */
        String text() {
            StringBuilder properties = new StringBuilder(kind);
            if (computeUnits != null) {
                properties.append(", ").append(computeUnits).append(" compute units");
            }
            if (globalMemoryBytes != null) {
                properties.append(String.format(Locale.ROOT, ", %.1f GiB", globalMemoryBytes / (double) (1L << 30)));
            }
            return id + " (" + name + "; " + properties + ")";
        }
    }

    record BackendRow(String id, boolean available, String reason, List<DeviceRow> devices, int rank,
                      String description) {
    }

    /**
     * {@code auto}: the backend the rank rule picks (what auto picks under {@code --select rank}, and
     * where nothing can be measured); {@code selection}: the policy in force.
     * {@code load_failures}: plugins (backends, kernel providers, op providers, jars of the plugin folder)
     * that did not load. {@code op_providers}: the ops plugins add ({@code domain.name}) and their providers.
     */
    record Report(String auto, String selection, List<BackendRow> backends, List<String> loadFailures,
                  List<OpProviderRow> opProviders) {
    }

    record OpProviderRow(String op, String provider, boolean referenceKernel) {
    }

    @Override
    public Integer call() {
        Engine engine = Engine.create();
        List<BackendRow> backends = engine.backends().stream()
                .map(b -> new BackendRow(b.id(), b.available(), b.reason(), devices(b.devices()), b.rank(),
                        b.description()))
                .toList();
        List<String> failures = new java.util.ArrayList<>(engine.loadFailures());
        failures.addAll(engine.kernels().loadFailures());
        OpRegistry ops = OpRegistry.discover();
        ops.loadFailures().stream().filter(f -> !failures.contains(f)).forEach(failures::add); // the folder's own once
        List<OpProviderRow> opProviders = ops.providers().stream().map(p -> new OpProviderRow(
                ProvidedOp.qualifiedName(p.domain(), p.name()), p.getClass().getName(), p.hasReferenceKernel())).toList();
        Report report = new Report(engine.autoChoice(), engine.options().selection().label(), backends, failures,
                opProviders);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Json.print(out, report);
            return 0;
        }
        Table table = new Table("id", "available", "rank", "devices", "reason");
        for (BackendRow b : backends) {
            String devices = b.devices().stream().map(DeviceRow::text).collect(Collectors.joining(", "));
            table.row(b.id(), b.available() ? "yes" : "no", b.rank(), devices.isEmpty() ? "-" : devices,
                    b.reason());
        }
        table.print(out);
        out.println();
        if (engine.options().selection() == SelectionPolicy.RANK) {
            out.println("auto picks: " + report.auto() + " (--select rank: the highest-ranked available backend; for"
                    + " a model, the highest-ranked one that runs all of it)");
        } else {
            out.println("auto picks per model and batch size (--select " + report.selection() + "): the fastest"
                    + " backend that runs the whole model, measured once on this machine and kept in the tuning"
                    + " cache ('kiln tune', 'kiln explain'); by rank alone: " + report.auto());
        }
        for (OpProviderRow op : opProviders) {
            out.println("op " + op.op() + ": from " + op.provider()
                    + (op.referenceKernel() ? "" : " (no reference kernel: runs only where a backend claims it)"));
        }
        for (String failure : failures) {
            out.println("failed to load: " + failure);
        }
        out.flush();
        return 0;
    }

    private static List<DeviceRow> devices(List<Device> devices) {
        return devices.stream()
                .map(d -> new DeviceRow(d.id(), d.name(), d.kind().name().toLowerCase(Locale.ROOT),
                        d.globalMemoryBytes().isPresent() ? d.globalMemoryBytes().getAsLong() : null,
                        d.computeUnits().isPresent() ? d.computeUnits().getAsInt() : null))
                .toList();
    }
}
