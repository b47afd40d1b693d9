package dev.kiln.cli;

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
                ExplainCommand.class, InspectCommand.class},
        footer = {"", "Environment: KILN_BACKEND picks the default backend; KILN_DEBUG=1 prints stack traces."})
public final class Kiln implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    // Read by ErrorReporter from the command line itself, so that it works for parse errors too.
    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Print stack traces with errors.")
    boolean verbose;

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
