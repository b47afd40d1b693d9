package dev.kiln.conformance.fuzz;

import dev.kiln.Engine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** Runs checks in this process: for the reference backend, the optimizer and the pure-Java backends. */
public final class InProcessRunner implements CaseRunner {
    private final Engine engine;
    private final CaseChecker checker;

    public InProcessRunner(Engine engine, CaseChecker checker) {
        this.engine = engine;
        this.checker = checker;
    }

    @Override
    public CaseResult check(GraphRecipe recipe, String target) {
        return checker.check(recipe, target);
    }

    @Override
    public String write(GraphRecipe recipe, String target, Path dir) {
        try {
            return new FindingWriter(engine).write(recipe, target, dir);
        } catch (IOException e) {
            throw new UncheckedIOException("writing a finding into " + dir, e);
        }
    }

    @Override
    public void close() {
    }
}
