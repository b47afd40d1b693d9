package dev.kiln.conformance.fuzz;

import java.nio.file.Path;

/**
 * Where a target's checks run: in this process ({@link InProcessRunner}) or in a worker JVM of
 * its own ({@link WorkerJvmRunner}), which a native crash takes down instead of the fuzzer.
 */
public interface CaseRunner extends AutoCloseable {

    /** Checks {@code target} on the recipe's graph; a crash of the worker is a {@link CaseResult.Verdict#CRASHED} result. */
    CaseResult check(GraphRecipe recipe, String target);

    /**
     * Writes the finding for {@code target} into {@code dir}: the model, its inputs, the recipe and
     * the command that replays it (see {@link FindingWriter}); returns what was written, for people.
     */
    String write(GraphRecipe recipe, String target, Path dir);

    @Override
    void close();
}
