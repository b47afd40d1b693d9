package dev.kiln.conformance.fuzz;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

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

    @Test
    void theModelFileFuzzersFilesRunInTheSameWorkerAndAHangIsACrash(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("model.onnx");
        try (RecipeMaterializer.Materialized m = RecipeMaterializer.materialize(RECIPE);
             var out = Files.newOutputStream(model)) {
            m.model().writeTo(out);
        }
        Path garbage = Files.writeString(dir.resolve("garbage.onnx"), "not an ONNX file");
        try (WorkerJvmRunner runner = new WorkerJvmRunner("reference", WorkerJvmRunner.defaultJvmOptions(), 120_000)) {
            assertEquals(ModelFileCheck.Outcome.RAN, runner.exercise(model).outcome());
            ModelFileCheck.Result refused = runner.exercise(garbage);
            assertEquals(ModelFileCheck.Outcome.REFUSED, refused.outcome(), refused::message);
            assertEquals(CaseResult.Verdict.PASSED, runner.check(RECIPE, "reference").verdict());
            assertEquals(1, runner.starts(), "one worker serves the files and the generated graphs");
        }
        try (WorkerJvmRunner runner = new WorkerJvmRunner("reference", WorkerJvmRunner.defaultJvmOptions(), 1)) {
            ModelFileCheck.Result hung = runner.exercise(model);
            assertEquals(ModelFileCheck.Outcome.CRASHED, hung.outcome());
            assertTrue(hung.outcome().isFinding() && hung.message().contains("hung"), hung.message());
            assertEquals(ModelFileCheck.Outcome.CRASHED, runner.exercise(model).outcome());
            assertEquals(2, runner.starts(), "each file after a kill starts a new worker");
        }
    }
}
