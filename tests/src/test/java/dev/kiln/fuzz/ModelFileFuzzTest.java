package dev.kiln.fuzz;

import dev.kiln.Engine;
import dev.kiln.RequiredBackend;
import dev.kiln.conformance.fuzz.ModelFileCheck;
import dev.kiln.conformance.fuzz.WorkerJvmRunner;
import dev.kiln.graph.Graph;
import dev.kiln.models.onnx.OnnxImporter;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fuzzes model files through import, the optimizer, compilation and a run on the reference
 * backend ({@link ModelFileCheck}): a seeded mutation loop over a corpus of real models
 * ({@link FuzzSeeds}), reproducible from its seed. A finding is any outcome but a run or a
 * {@link dev.kiln.KilnException}: another exception, an error, or an execution that does not end
 * within the hang guard ({@link #DEFAULT_HANG_SECONDS} s, generous so that a slow or busy machine
 * never trips it; a long run on a quiet machine may set a tighter one to hunt slow inputs); its
 * file is written to {@code target/fuzz-findings/}. Each seed runs once as it
 * is; then seeds and mutants that got past import become the parents of most later mutants, the
 * only feedback a loop without coverage has.
 *
 * <p>Why not Jazzer: {@code jazzer-junit} 0.24.0 (the newest) runs on JDK 25, but the ASM inside
 * it rejects class files of major version 69, so it instruments neither Kiln's classes nor the
 * JDK's and fuzzes blind: in a 31-second run here its corpus never grew past the empty input.
 *
 * <p>In every build: {@value #DEFAULT_EXECUTIONS} executions. A long run: {@code
 * -Dkiln.fuzz.seconds=1800} (or {@code -Dkiln.fuzz.executions=N}), {@code -Dkiln.fuzz.seed=S},
 * {@code -Dkiln.fuzz.hang.seconds=H}; see the README. Each finding, once fixed, goes into {@code src/test/resources/dev/kiln/fuzz/findings/}
 * and {@link #findingsStayFixed} runs it in every build.
 *
 * <p>The native backends get the mutants that import ({@link #mutantsOnEachBackendInItsWorkerJvm}),
 * each backend in a long-lived worker JVM of its own as {@code kiln fuzz} runs it ({@link
 * WorkerJvmRunner}): a crash or hang of native code is a finding there, and the worker is
 * replaced for the next mutant.
 */
class ModelFileFuzzTest {
    static final int DEFAULT_EXECUTIONS = 6000;
    static final long DEFAULT_SEED = 20261130L;
    /** The hang guard: executions take milliseconds (the target bounds them), so this is only for one that never ends. */
    static final long DEFAULT_HANG_SECONDS = 60;
    private static final long HANG = Long.getLong("kiln.fuzz.hang.seconds", DEFAULT_HANG_SECONDS);
    private static final int MAX_CORPUS = 2000;
    /** {@link #importingMutants}'s longest list so far. */
    private static List<byte[]> importing = List.of();

    @TempDir
    Path scratch;

    @Test
    void mutatedModelFilesEndInARunOrAClearError() throws Exception {
        long seed = Long.getLong("kiln.fuzz.seed", DEFAULT_SEED);
        long seconds = Long.getLong("kiln.fuzz.seconds", 0);
        long executions = seconds > 0 ? Long.MAX_VALUE : Long.getLong("kiln.fuzz.executions", DEFAULT_EXECUTIONS);
        FuzzSeeds.Corpus seeds = FuzzSeeds.load(repositoryRoot());
        assertTrue(seeds.small().size() > 500, "expected the ONNX test data's models as seeds, found "
                + seeds.small().size());
        List<byte[]> corpus = new ArrayList<>(seeds.small());
        List<byte[]> loading = new ArrayList<>(); // seeds and mutants that got past import: most parents come from here
        Random pick = new Random(seed);
        ModelMutator mutator = new ModelMutator(seed + 1);
        ModelFileCheck target = new ModelFileCheck(scratch);
        Map<ModelFileCheck.Outcome, Long> outcomes = new EnumMap<>(ModelFileCheck.Outcome.class);
        List<String> findings = new ArrayList<>();
        Path findingsFolder = Path.of("target", "fuzz-findings");
        ExecutorService worker = Executors.newSingleThreadExecutor(daemon());
        long start = System.nanoTime();
        long done = 0;
        try {
            while (done < executions && (seconds == 0 || System.nanoTime() - start < seconds * 1_000_000_000L)) {
                // The seeds themselves first, as they are: that sorts out which ones load.
                boolean asIs = done < corpus.size() && done < seeds.small().size();
                byte[] mutant;
                if (asIs) {
                    mutant = corpus.get((int) done);
                } else {
                    int dice = pick.nextInt(50);
                    byte[] parent = dice == 0 && !seeds.parity().isEmpty()
                            ? seeds.parity().get(pick.nextInt(seeds.parity().size()))
                            : dice < 40 && !loading.isEmpty() ? loading.get(pick.nextInt(loading.size()))
                            : corpus.get(pick.nextInt(corpus.size()));
                    mutant = mutator.mutate(parent);
                }
                done++;
                Future<ModelFileCheck.Outcome> run = worker.submit(() -> target.exercise(mutant, ReferenceBackend.ID));
                try {
                    ModelFileCheck.Outcome outcome = run.get(HANG, TimeUnit.SECONDS);
                    outcomes.merge(outcome, 1L, Long::sum);
                    if (outcome != ModelFileCheck.Outcome.REFUSED && loading.size() < MAX_CORPUS
                            && mutant.length < 64 << 10) {
                        loading.add(mutant);
                    }
                } catch (ExecutionException e) {
                    findings.add(record(findingsFolder, findings.size(), mutant, e.getCause()));
                } catch (TimeoutException e) {
                    run.cancel(true);
                    worker.shutdownNow();
                    worker = Executors.newSingleThreadExecutor(daemon());
                    findings.add(record(findingsFolder, findings.size(), mutant,
                            new AssertionError("no answer within " + HANG + " s")));
                }
            }
        } finally {
            worker.shutdownNow();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        System.out.printf(Locale.ROOT, "fuzz: seed %d, %d executions in %.1f s (%.0f/s), %d seeds (%d parity"
                        + " exports), %d loading inputs kept as parents, outcomes %s, %d findings%n", seed, done, elapsed,
                done / elapsed, seeds.size(), seeds.parity().size(), loading.size(), outcomes, findings.size());
        if (!findings.isEmpty()) {
            fail(findings.size() + " findings (files in " + findingsFolder.toAbsolutePath() + "):\n"
                    + String.join("\n", findings));
        }
    }

    /**
     * The mutants of {@link #DEFAULT_SEED} that import, {@code count} of them: the same mutation
     * loop (seeds that import and mutants that import are the parents of most later mutants).
     * Import is the same for every backend and {@link #mutatedModelFilesEndInARunOrAClearError}
     * fuzzes it, so only what gets past it goes on to a backend.
     */
    private static synchronized List<byte[]> importingMutants(int count, Path scratch) throws IOException {
        // The sequence does not depend on count: the longest one made so far serves every shorter count.
        if (importing.size() >= count) {
            return importing.subList(0, count);
        }
        FuzzSeeds.Corpus seeds = FuzzSeeds.load(repositoryRoot());
        Path file = scratch.resolve("import.onnx");
        List<byte[]> loading = new ArrayList<>();
        for (byte[] seed : seeds.small()) {
            if (imports(seed, file)) {
                loading.add(seed);
            }
        }
        assertTrue(loading.size() > 100, "expected over 100 seeds that import, found " + loading.size());
        Random pick = new Random(DEFAULT_SEED);
        ModelMutator mutator = new ModelMutator(DEFAULT_SEED + 1);
        List<byte[]> mutants = new ArrayList<>();
        for (int tries = 0; mutants.size() < count && tries < count * 50; tries++) {
            byte[] mutant = mutator.mutate(loading.get(pick.nextInt(loading.size())));
            if (imports(mutant, file)) {
                mutants.add(mutant);
                if (loading.size() < MAX_CORPUS && mutant.length < 64 << 10) {
                    loading.add(mutant);
                }
            }
        }
        assertEquals(count, mutants.size(), "too few mutants import");
        importing = List.copyOf(mutants);
        return importing;
    }

    private static boolean imports(byte[] model, Path file) throws IOException {
        Files.write(file, model);
        try (Graph ignored = OnnxImporter.load(file)) {
            return true;
        } catch (RuntimeException | StackOverflowError e) { // refused, or a finding of the import fuzzing above
            return false;
        }
    }

    @ParameterizedTest(name = "{0}: {1} importing mutants")
    @CsvSource({"cpu-simd, 150", "onednn, 150", "opencl, 40"})
    void mutantsOnEachBackendInItsWorkerJvm(String backend, int count) throws IOException {
        Engine engine = Engine.create();
        Engine.BackendInfo info = engine.backends().stream().filter(b -> b.id().equals(backend)).findFirst()
                .orElseThrow(() -> new AssertionError(backend + " is not on the class path"));
        RequiredBackend.assumeAvailable(backend, info.available(), info.reason());
        List<byte[]> mutants = importingMutants(count, scratch);
        Map<ModelFileCheck.Outcome, Long> outcomes = new EnumMap<>(ModelFileCheck.Outcome.class);
        List<String> findings = new ArrayList<>();
        Path findingsFolder = Path.of("target", "fuzz-findings", backend);
        Path file = scratch.resolve("mutant.onnx");
        long start = System.nanoTime();
        try (WorkerJvmRunner worker = new WorkerJvmRunner(backend, WorkerJvmRunner.defaultJvmOptions(),
                TimeUnit.SECONDS.toMillis(HANG))) {
            for (byte[] mutant : mutants) {
                Files.write(file, mutant);
                ModelFileCheck.Result r = worker.exercise(file);
                outcomes.merge(r.outcome(), 1L, Long::sum);
                if (r.outcome().isFinding()) {
                    findings.add(record(findingsFolder, findings.size(), mutant, new AssertionError(r.outcome() + ": "
                            + r.message())));
                }
            }
            double elapsed = (System.nanoTime() - start) / 1e9;
            System.out.printf(Locale.ROOT, "fuzz %s: %d importing mutants of seed %d in %.1f s (%.0f/s) in %d worker"
                    + " JVM(s), outcomes %s, %d findings%n", backend, mutants.size(), DEFAULT_SEED, elapsed,
                    mutants.size() / elapsed, worker.starts(), outcomes, findings.size());
        }
        assertTrue(outcomes.getOrDefault(ModelFileCheck.Outcome.RAN, 0L) > 0, "no mutant ran on " + backend
                + ": " + outcomes);
        if (!findings.isEmpty()) {
            fail(findings.size() + " findings on " + backend + " (files in " + findingsFolder.toAbsolutePath()
                    + "):\n" + String.join("\n", findings));
        }
    }

    static Stream<Path> findings() throws IOException {
        Path folder = repositoryRoot().resolve("tests/src/test/resources/dev/kiln/fuzz/findings");
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(f -> f.toString().endsWith(".onnx")).sorted().toList().stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("findings")
    void findingsStayFixed(Path finding) throws Exception {
        ModelFileCheck target = new ModelFileCheck(scratch);
        ExecutorService worker = Executors.newSingleThreadExecutor(daemon());
        try {
            worker.submit(() -> target.exercise(Files.readAllBytes(finding), ReferenceBackend.ID)).get(HANG, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError(finding.getFileName() + " fails again: " + e.getCause(), e.getCause());
        } finally {
            worker.shutdownNow();
        }
    }

    private static String record(Path folder, int index, byte[] mutant, Throwable cause) throws IOException {
        Files.createDirectories(folder);
        Path file = folder.resolve("finding-" + index + ".onnx");
        Files.write(file, mutant);
        StringWriter trace = new StringWriter();
        cause.printStackTrace(new PrintWriter(trace));
        Files.writeString(folder.resolve("finding-" + index + ".txt"), trace.toString());
        String where = trace.toString().lines().filter(l -> l.contains("at dev.kiln.")).findFirst().orElse("").trim();
        return file.getFileName() + ": " + cause + (where.isEmpty() ? "" : " " + where);
    }

    private static java.util.concurrent.ThreadFactory daemon() {
        return r -> {
            Thread t = new Thread(r, "fuzz-target");
            t.setDaemon(true);
            return t;
        };
    }

    static Path repositoryRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("cli")) && Files.isRegularFile(dir.resolve("run-tests"))) {
                return dir;
            }
        }
        throw new IllegalStateException("not inside the Kiln repository: " + Path.of("").toAbsolutePath());
    }
}
