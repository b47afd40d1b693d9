package dev.kiln.conformance.fuzz;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One worker JVM serves a backend's checks for the whole run; a check it does not answer in time
 * is a CRASHED finding and its worker is killed; a worker that is gone (killed, as a native crash
 * would end it) is replaced by the next check, and the run goes on.
 */
class WorkerJvmRunnerTest {
    private static final GraphRecipe RECIPE = RecipeGenerator.generate(1, 0, 6);

    @Test
    void oneWorkerServesEveryCheckAndAGoneOneIsReplaced() throws Exception {
        try (WorkerJvmRunner runner = new WorkerJvmRunner("reference", WorkerJvmRunner.defaultJvmOptions(), 120_000)) {
            assertEquals(CaseResult.Verdict.PASSED, runner.check(RECIPE, "reference").verdict());
            assertEquals(CaseResult.Verdict.PASSED, runner.check(RecipeGenerator.generate(1, 1, 6), "reference")
                    .verdict());
            assertEquals(1, runner.starts(), "one worker serves every check");

            List<ProcessHandle> workers = ProcessHandle.current().children()
                    .filter(p -> p.info().commandLine().orElse("").contains(FuzzWorker.class.getName())).toList();
            assertEquals(1, workers.size(), workers::toString);
            workers.getFirst().destroyForcibly();
            workers.getFirst().onExit().get(30, TimeUnit.SECONDS);

            assertEquals(CaseResult.Verdict.PASSED, runner.check(RECIPE, "reference").verdict());
            assertEquals(2, runner.starts(), "a new worker after the old one died");
        }
    }

    @Test
    void aCheckPastTheHangLimitIsACrashAndItsWorkerIsKilled() {
        try (WorkerJvmRunner runner = new WorkerJvmRunner("reference", WorkerJvmRunner.defaultJvmOptions(), 1)) {
            CaseResult hung = runner.check(RECIPE, "reference");
            assertEquals(CaseResult.Verdict.CRASHED, hung.verdict());
            assertTrue(hung.message().contains("reference worker JVM crashed") && hung.message().contains("hung"),
                    hung.message());
            assertEquals(CaseResult.Verdict.CRASHED, runner.check(RECIPE, "reference").verdict());
            assertEquals(2, runner.starts(), "each check after a kill starts a new worker");
        }
    }
}
