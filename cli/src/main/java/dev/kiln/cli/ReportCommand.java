package dev.kiln.cli;

import dev.kiln.cli.report.ComparePage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code kiln report --compare OLD NEW --output FILE}: two saved {@code kiln bench --json} runs
 * side by side as an HTML report, regressions marked (see {@link BenchComparison}).
 */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Write an HTML report from saved 'kiln bench --json' output: --compare draws two runs side"
                + " by side, the change of the median per model, backend and batch size, regressions marked."})
final class ReportCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--compare", arity = "2", required = true, paramLabel = "FILE.json",
            description = "The old and the new run, each the output of 'kiln bench --json'.")
    List<Path> compare;

    @Option(names = "--output", required = true, paramLabel = "FILE.html", description = "The report to write.")
    Path output;

    @Option(names = "--threshold", paramLabel = "PERCENT", defaultValue = "5",
            description = "A median this many percent slower is a regression, as much faster an improvement"
                    + " (default ${DEFAULT-VALUE}).")
    double thresholdPct;

    @Option(names = "--json", description = "Print the comparison as JSON on stdout.")
    boolean json;

    @Override
    public Integer call() {
        if (!(thresholdPct >= 0)) {
            throw new ParameterException(spec.commandLine(), "--threshold must be 0 or more, got " + thresholdPct);
        }
        BenchComparison c = BenchComparison.of(compare.get(0), compare.get(1), thresholdPct);
        ComparePage.write(Json.tree(c), output);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Json.print(out, c);
            return 0;
        }
        Table table = new Table("model", "backend", "batch", "old ms", "new ms", "change", "verdict");
        for (BenchComparison.Row r : c.rows()) {
            table.row(r.model(), r.backend(), r.batch(), ms(r.oldMedianMs()), ms(r.newMedianMs()),
                    r.changePct() == null ? "-" : String.format(Locale.ROOT, "%+.1f%%", r.changePct()), r.verdict());
        }
        table.print(out);
        out.printf(Locale.ROOT, "%d regressions, %d improvements (threshold %.1f%%); wrote %s%n", c.regressions(),
                c.improvements(), thresholdPct, output);
        out.flush();
        return 0;
    }

    private static String ms(Double value) {
        return value == null ? "-" : String.format(Locale.ROOT, value >= 100 ? "%.1f" : "%.2f", value);
    }
}
