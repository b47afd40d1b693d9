package dev.kiln.cli;

import dev.kiln.KilnException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;

/**
 * Turns every failure into one line on stderr, {@code kiln: error: ...}, and an exit code:
 * {@value #USAGE} for a bad command line (unknown option, unknown model or backend name, bad
 * value, a batch beyond the memory limit), {@value #RUNTIME} for a problem the user can fix in
 * what they gave (a bad model file or input, an unavailable backend, a plan over the memory
 * limit), and {@value #INTERNAL} ({@code EX_SOFTWARE} of {@code sysexits.h}) only for an
 * exception Kiln did not expect: a bug in Kiln, reported as an internal error. The stack trace
 * follows only with {@code --verbose} or {@code KILN_DEBUG=1}.
 */
final class ErrorReporter implements IParameterExceptionHandler, IExecutionExceptionHandler {
    static final int RUNTIME = 1;
    static final int USAGE = 2;
    static final int INTERNAL = 70;

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        report(ex.getCommandLine().getErr(), ex.getMessage(), ex, args);
        return USAGE;
    }

    @Override
    public int handleExecutionException(Exception ex, CommandLine commandLine, ParseResult parseResult) {
        report(commandLine.getErr(), describe(ex), ex, parseResult.originalArgs().toArray(String[]::new));
        return isUserCaused(ex) ? RUNTIME : INTERNAL;
    }

    private static void report(PrintWriter err, String message, Exception ex, String[] args) {
        err.println("kiln: error: " + message);
        if (stackTracesWanted(args)) {
            ex.printStackTrace(err);
        }
        err.flush();
    }

    /** Whether stack traces were asked for: {@code --verbose} anywhere on the command line, or {@code KILN_DEBUG=1}. */
    static boolean stackTracesWanted(CommandLine commandLine) {
        CommandLine root = commandLine;
        while (root.getParent() != null) {
            root = root.getParent();
        }
        ParseResult parsed = root.getParseResult();
        return stackTracesWanted(parsed == null ? new String[0] : parsed.originalArgs().toArray(String[]::new));
    }

    private static boolean stackTracesWanted(String[] args) {
        return Arrays.asList(args).contains("--verbose") || "1".equals(System.getenv("KILN_DEBUG"));
    }

    /** Whether the exception is one a user can cause and fix, as opposed to a bug in Kiln. */
    static boolean isUserCaused(Exception ex) {
        return ex instanceof KilnException || ex instanceof IOException;
    }

    /** What went wrong, in the words of the exception when it is one a user can meet. */
    static String describe(Exception ex) {
        return switch (ex) {
            case NoSuchFileException e -> "no such file: " + e.getFile();
            case AccessDeniedException e -> "permission denied: " + e.getFile();
            case KilnException e -> e.getMessage();
            case IOException e -> e.getMessage() != null ? e.getMessage() : e.toString();
            default -> "internal error: " + ex + " (rerun with --verbose for the stack trace)";
        };
    }
}
