package dev.kiln.conformance.fuzz;

import dev.kiln.Engine;
import dev.kiln.optimize.Optimizer;
import dev.kiln.reference.ReferenceBackend;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The runners for a fuzz run's backends: the reference backend stands for the optimizer check
 * (optimized against unoptimized, in this process); every other backend is checked against the
 * reference backend, each in a worker JVM of its own when isolated (a crash of native code is then
 * a finding, not the end of the run), else in this process.
 */
public final class FuzzTargets implements AutoCloseable {
    /** How long one check may run in a worker before it counts as hung. */
    public static final long HANG_MILLIS = 120_000;

    private final Map<String, CaseRunner> runners;
    private final Path scratch;

    private FuzzTargets(Map<String, CaseRunner> runners, Path scratch) {
        this.runners = runners;
        this.scratch = scratch;
    }

    /** Runners for {@code backends} (ids known to {@code engine}); {@code isolate}: workers for all but the reference. */
    public static FuzzTargets open(Engine engine, List<String> backends, boolean isolate) {
        Path scratch;
        try {
            scratch = Files.createTempDirectory("kiln-fuzz");
        } catch (IOException e) {
            throw new UncheckedIOException("creating a scratch folder for the fuzzer", e);
        }
        InProcessRunner local = new InProcessRunner(engine, new CaseChecker(engine, new Optimizer(), scratch));
        Map<String, CaseRunner> runners = new LinkedHashMap<>();
        for (String id : backends) {
            if (id.equals(ReferenceBackend.ID)) {
                runners.put(CaseChecker.OPTIMIZER, local);
            } else if (isolate) {
                runners.put(id, new WorkerJvmRunner(id, WorkerJvmRunner.defaultJvmOptions(), HANG_MILLIS));
            } else {
                runners.put(id, local);
            }
        }
        return new FuzzTargets(runners, scratch);
    }

    /** Per target (a backend's id, or {@link CaseChecker#OPTIMIZER}) its runner. */
    public Map<String, CaseRunner> runners() {
        return runners;
    }

    @Override
    public void close() {
        runners.values().forEach(CaseRunner::close);
        try (var files = Files.list(scratch)) {
            files.forEach(p -> p.toFile().delete());
            Files.deleteIfExists(scratch);
        } catch (IOException e) {
            // a temporary folder; the system cleans it up
        }
    }
}
