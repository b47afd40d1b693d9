package dev.kiln.cli;

import dev.kiln.graph.Graph;
import dev.kiln.models.ModelSpec;
import dev.kiln.models.Models;
import dev.kiln.models.WeightInit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code kiln models}: every family and variant with its size and cost. */
@Command(name = "models", mixinStandardHelpOptions = true,
        description = "List the model zoo: parameters and multiply-accumulates (MACs) of one image.")
final class ModelsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "Print JSON on stdout.")
    boolean json;

    /** One model; {@code inputShape} is [1, 3, H, W], the shape of one image. */
    record ModelRow(String name, String family, String variant, long params, long macs, int[] inputShape,
                    String description) {
    }

    @Override
    public Integer call() {
        List<ModelRow> rows = new ArrayList<>();
        for (ModelSpec model : Models.all()) {
            // Zero weights: only the structure is needed to count.
            try (Graph graph = model.build(WeightInit.ZEROS)) {
                rows.add(new ModelRow(model.name(), model.family(), model.variant(), graph.parameterCount(),
                        graph.macs(1), model.inputShape().withDim(0, 1).dims(), model.description()));
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Json.print(out, rows);
            return 0;
        }
        Table table = new Table("name", "family", "variant", "input", "params", "MACs");
        for (ModelRow r : rows) {
            table.row(r.name(), r.family(), r.variant(), r.inputShape()[2] + "x" + r.inputShape()[3],
                    String.format(Locale.ROOT, "%.2fM", r.params() / 1e6),
                    String.format(Locale.ROOT, "%.0fM", r.macs() / 1e6));
        }
        table.print(out);
        return 0;
    }
}
