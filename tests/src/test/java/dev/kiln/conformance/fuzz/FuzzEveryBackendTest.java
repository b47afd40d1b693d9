package dev.kiln.conformance.fuzz;

import dev.kiln.Engine;
import dev.kiln.RequiredBackend;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What CI fuzzes on every build: a fixed seed and number of generated graphs per backend, the
 * native ones in their worker JVMs as {@code kiln fuzz} runs them, and the optimizer against the
 * unoptimized graph. About a minute in all on a 2-core host (OpenCL on PoCL is the slow one, so it
 * gets fewer graphs). A finding fails the build with its shrunk recipe; replay it with
 * {@code kiln fuzz --replay} on the folder the message names.
 */
class FuzzEveryBackendTest {

    @ParameterizedTest(name = "{0}: {1} graphs")
    @CsvSource({"reference, 150", "cpu-simd, 120", "onednn, 120", "opencl, 20"})
    void aFixedSeedFindsNothing(String backend, int cases, @org.junit.jupiter.api.io.TempDir Path out) {
        Engine engine = Engine.create();
        Engine.BackendInfo info = engine.backends().stream().filter(b -> b.id().equals(backend)).findFirst()
                .orElseThrow(() -> new AssertionError(backend + " is not on the class path"));
        RequiredBackend.assumeAvailable(backend, info.available(), info.reason());
        try (FuzzTargets targets = FuzzTargets.open(engine, List.of(backend), true)) {
            FuzzOptions options = FuzzOptions.cases(2026, cases).withOut(out);
            FuzzReport report = new Fuzzer(options, targets.runners(), System.out::println).run();
            assertEquals(cases, report.cases());
            String target = backend.equals(ReferenceBackend.ID) ? CaseChecker.OPTIMIZER : backend;
            assertEquals(cases, report.targets().getFirst().checks());
            assertEquals(target, report.targets().getFirst().target());
            assertTrue(report.passed(), () -> "findings on " + target + ":\n" + String.join("\n",
                    report.findings().stream().map(Object::toString).toList()));
            System.out.printf("fuzz %s: %d graphs, %.0f per minute%n", target, cases,
                    report.targets().getFirst().casesPerMinute());
        }
    }
}
