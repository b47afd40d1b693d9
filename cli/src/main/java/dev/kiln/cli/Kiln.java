package dev.kiln.cli;

import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.KilnException;
import dev.kiln.SelectionPolicy;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/**
 * The {@code kiln} command: lists models and backends, runs a model, benchmarks backends against
 * each other, explains a compilation, describes an ONNX file.
 */
@Command(name = "kiln",
        mixinStandardHelpOptions = true,
        versionProvider = KilnVersion.class,
        description = "Kiln: a Java inference engine for convolutional networks with plugin backends.",
        subcommands = {ModelsCommand.class, BackendsCommand.class, RunCommand.class, BenchCommand.class,
                ExplainCommand.class, InspectCommand.class, VerifyCommand.class, ExportCommand.class, FuzzCommand.class,
                TuneCommand.class, ReportCommand.class},
        footer = {"", "Environment: KILN_BACKEND picks the default backend, KILN_DEVICE its device, KILN_THREADS the"
                + " number of host threads, KILN_PLUGINS a folder of plugin jars, KILN_MAX_MEMORY the memory limit; KILN_SELECT and KILN_SELECT_BUDGET how auto chooses, KILN_CACHE"
                + " where Kiln keeps what it measured; KILN_DEBUG=1 prints stack traces.",
                "Exit codes: 0 success, 1 a problem with a model, an input or a backend, 2 a bad command line,"
                        + " 70 an internal error (a bug in Kiln)."})
public final class Kiln implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    // Read by ErrorReporter from the command line itself, so that it works for parse errors too.
    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Print stack traces with errors.")
    boolean verbose;

    @Spec(Spec.Target.SELF)
    CommandSpec self;

    @Option(names = "--threads", scope = ScopeType.INHERIT, paramLabel = "N",
            description = "Host threads for the engine's pool (default: $KILN_THREADS, else every core).")
    void threads(int n) {
        if (n < 1) {
            throw new CommandLine.ParameterException(self.commandLine(), "--threads must be at least 1, got " + n);
        }
        System.setProperty(EngineOptions.THREADS_PROPERTY, Integer.toString(n));
    }

    @Option(names = "--max-memory", scope = ScopeType.INHERIT, paramLabel = "SIZE",
            description = "The most memory one run of a model may need (activations, inputs, outputs), e.g. 512M"
                    + " or 4G; a larger plan is refused when it is compiled. Default: $KILN_MAX_MEMORY, else half"
                    + " the machine's memory, at most the JVM's heap.")
    void maxMemory(String size) {
        try {
            EngineOptions.parseBytes(size, "--max-memory");
        } catch (KilnException e) {
            throw new CommandLine.ParameterException(self.commandLine(), e.getMessage());
        }
        System.setProperty(EngineOptions.MAX_MEMORY_PROPERTY, size);
    }

    @Option(names = "--plugins", scope = ScopeType.INHERIT, paramLabel = "DIR",
            description = "Also load backend and kernel-provider jars from this folder (default: $KILN_PLUGINS);"
                    + " a jar that fails to load is listed by 'kiln backends'.")
    void plugins(String dir) {
        System.setProperty(Engine.PLUGINS_PROPERTY, dir);
    }

    @Option(names = "--select", scope = ScopeType.INHERIT, paramLabel = "rank|measured|cached",
            description = "How auto chooses a backend per model and batch size: measured (time the candidates once"
                    + " on this machine, remember the fastest in the tuning cache), cached (the cache, else rank;"
                    + " never measures), rank (the static rank). Default: $KILN_SELECT, else measured.")
    void select(String policy) {
        try {
            SelectionPolicy.parse(policy, "--select");
        } catch (KilnException e) {
            throw new CommandLine.ParameterException(self.commandLine(), e.getMessage());
        }
        System.setProperty(EngineOptions.SELECT_PROPERTY, policy);
    }

    @Option(names = "--select-budget", scope = ScopeType.INHERIT, paramLabel = "TIME",
            description = "The time auto may spend measuring per model and batch size, e.g. 500ms or 10s."
                    + " Default: $KILN_SELECT_BUDGET, else 10s.")
    void selectBudget(String time) {
        try {
            EngineOptions.parseDuration(time, "--select-budget");
        } catch (KilnException e) {
            throw new CommandLine.ParameterException(self.commandLine(), e.getMessage());
        }
        System.setProperty(EngineOptions.SELECT_BUDGET_PROPERTY, time);
    }

    @Option(names = "--device", scope = ScopeType.INHERIT, paramLabel = "ID|INDEX|NAME",
            description = "The device of the chosen backend (see 'kiln backends'); needs --backend.")
    void device(String d) {
        System.setProperty(Engine.DEVICE_PROPERTY, d);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command with Kiln's error reporting; tests call it in-process with their own out and err. */
    public static CommandLine commandLine() {
        ErrorReporter reporter = new ErrorReporter();
        return new CommandLine(new Kiln())
                .setParameterExceptionHandler(reporter)
                .setExecutionExceptionHandler(reporter);
    }

    /** Without a subcommand: the usage, and the exit code of a usage error. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return ErrorReporter.USAGE;
    }
}
