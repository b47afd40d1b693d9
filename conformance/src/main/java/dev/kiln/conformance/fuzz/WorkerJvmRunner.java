package dev.kiln.conformance.fuzz;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Runs one backend's checks in a long-lived worker JVM of its own ({@link FuzzWorker}), so that a
 * native backend that crashes takes down the worker, not the fuzzer: the check that was running
 * becomes a {@link CaseResult.Verdict#CRASHED} finding (with the tail of the worker's log) and
 * the next check starts a new worker. One worker per backend, started on first use; a JVM per case
 * would cost its start-up every time. A check that takes longer than the hang limit kills the
 * worker and counts as a crash too. The model-file fuzzer runs its mutants through the same
 * workers ({@link #exercise}). The worker starts as this JVM started Kiln: from the class path, or
 * from the module path as named modules ({@link #launch}).
 */
public final class WorkerJvmRunner implements CaseRunner {
    private static final String EOF = "\u0000eof";

    private final String backend;
    private final List<String> jvmOptions;
    private final long hangMillis;
    private final Path log;
    private Process process;
    private Writer requests;
    private BlockingQueue<String> answers;
    private int starts;

    /**
     * @param backend    the backend the worker checks (its checks name it as the target)
     * @param jvmOptions options for the worker's JVM besides the class or module path (modules, native access,
     *                   properties)
     * @param hangMillis how long one check may take before the worker counts as hung
     */
    public WorkerJvmRunner(String backend, List<String> jvmOptions, long hangMillis) {
        this.backend = backend;
        this.jvmOptions = List.copyOf(jvmOptions);
        this.hangMillis = hangMillis;
        try {
            this.log = Files.createTempFile("kiln-fuzz-" + backend.replaceAll("[^A-Za-z0-9_-]", "_"), ".log");
        } catch (IOException e) {
            throw new UncheckedIOException("creating the worker's log file", e);
        }
    }

    /** The options a worker needs for every backend Kiln ships (the Vector API module, native access) and this JVM's {@code kiln.*} properties. */
    public static List<String> defaultJvmOptions() {
        // On the module path, native access is granted by module name: the worker gets the grants this JVM has.
        String nativeAccess = String.join(",", java.util.stream.Stream.concat(java.util.stream.Stream.of("ALL-UNNAMED"),
                ModuleLayer.boot().modules().stream().filter(Module::isNativeAccessEnabled).map(Module::getName)
                        .filter(m -> !m.startsWith("java.") && !m.startsWith("jdk.")).sorted()).toList());
        List<String> options = new ArrayList<>(List.of("--add-modules", "jdk.incubator.vector",
                "--enable-native-access=" + nativeAccess));
        // Kiln's settings as this JVM has them (--threads, --plugins, --max-memory, a backend's own switches).
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("kiln.")).sorted()
                .forEach(k -> options.add("-D" + k + "=" + System.getProperty(k)));
        if (System.getProperty("kiln.select") == null) {
            options.add("-Dkiln.select=rank"); // the checks name their backend; nothing to measure
        }
        return options;
    }

    /** How many worker JVMs were started so far (1 plus one per crash, once running). */
    public int starts() {
        return starts;
    }

    @Override
    public CaseResult check(GraphRecipe recipe, String target) {
        String answer;
        try {
            answer = ask("check\t" + target + "\t" + recipe.toLine());
        } catch (WorkerDied e) {
            List<String> ops = recipe.nodes().stream().map(FuzzNode::op).distinct().sorted().toList();
            return new CaseResult(target, CaseResult.Verdict.CRASHED, null, e.getMessage(), ops, List.of(),
                    recipe.nodes().size());
        }
        return CaseResult.parse(answer);
    }

    /**
     * One execution of the model-file fuzzer on this runner's backend ({@link ModelFileCheck}): the
     * ONNX file at {@code model} imported, compiled and run in the worker. A crash or hang of the
     * worker is a {@link ModelFileCheck.Outcome#CRASHED} result, and the next request starts a new
     * worker.
     */
    public ModelFileCheck.Result exercise(Path model) {
        try {
            return ModelFileCheck.Result.parse(ask("file\t" + backend + "\t" + model.toAbsolutePath()));
        } catch (WorkerDied e) {
            return new ModelFileCheck.Result(ModelFileCheck.Outcome.CRASHED, e.getMessage());
        }
    }

    @Override
    public String write(GraphRecipe recipe, String target, Path dir) {
        try {
            return ask("write\t" + target + "\t" + dir.toAbsolutePath() + "\t" + recipe.toLine());
        } catch (WorkerDied e) {
            try {
                Files.createDirectories(dir);
                Files.writeString(dir.resolve("recipe.txt"), target + "\n" + recipe.toLine() + "\n");
                try (RecipeMaterializer.Materialized m = RecipeMaterializer.materialize(recipe);
                     var out = Files.newOutputStream(dir.resolve("model.onnx"))) {
                    m.model().writeTo(out);
                    dev.kiln.models.io.Npy.write(dir.resolve("x.npy"), m.input());
                }
                String replay = "kiln fuzz --replay " + dir;
                Files.writeString(dir.resolve("replay.txt"), replay + "\n");
                return recipe.nodes().size() + " node(s) (the worker died writing it: " + e.getMessage() + "); again: "
                        + replay;
            } catch (IOException io) {
                throw new UncheckedIOException("writing a finding into " + dir, io);
            }
        }
    }

    /** Sends one request and waits for its answer, starting the worker if none runs. */
    private String ask(String request) throws WorkerDied {
        if (process == null || !process.isAlive()) {
            start();
        }
        try {
            requests.write(request.replace('\n', ' ') + "\n");
            requests.flush();
        } catch (IOException e) {
            throw died("its input closed: " + e.getMessage());
        }
        try {
            String line = answers.poll(hangMillis, TimeUnit.MILLISECONDS);
            if (line == null) {
                process.destroyForcibly().waitFor();
                throw died("no answer within " + hangMillis / 1000 + " s: hung, killed");
            }
            if (line.equals(EOF)) {
                process.waitFor(10, TimeUnit.SECONDS);
                throw died("the worker JVM exited" + (process.isAlive() ? "" : " with status " + process.exitValue()));
            }
            if (line.startsWith(FuzzWorker.ANSWER + "-error\t")) {
                throw new IllegalStateException("the " + backend + " worker failed: " + line.substring(
                        FuzzWorker.ANSWER.length() + 7));
            }
            return line.substring(FuzzWorker.ANSWER.length() + 1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the " + backend + " worker", e);
        }
    }

    private WorkerDied died(String why) {
        String tail = "";
        try {
            List<String> lines = Files.readAllLines(log);
            tail = String.join(" / ", lines.subList(Math.max(0, lines.size() - 6), lines.size()));
        } catch (IOException | UncheckedIOException e) {
            tail = "(its log " + log + " is unreadable)";
        }
        process = null;
        return new WorkerDied("the " + backend + " worker JVM crashed: " + why + "; its log ends: " + tail);
    }

    private void start() throws WorkerDied {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin",
                "java").toString()));
        // A crashing worker's fatal-error report goes beside its log, not into the user's current
        // folder (a shrink after a crash starts hundreds of workers).
        command.add("-XX:ErrorFile=" + log.resolveSibling("hs_err_pid%p.log"));
        command.addAll(jvmOptions);
        command.addAll(launch());
        try {
            process = new ProcessBuilder(command).redirectError(log.toFile()).start();
        } catch (IOException e) {
            throw new UncheckedIOException("starting a worker JVM for " + backend + ": " + command, e);
        }
        starts++;
        requests = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        BlockingQueue<String> queue = new LinkedBlockingQueue<>();
        answers = queue;
        BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8));
        Thread t = new Thread(() -> {
            try {
                for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                    if (line.startsWith(FuzzWorker.ANSWER)) {
                        queue.add(line);
                    }
                }
            } catch (IOException e) {
                // the worker went away; EOF below says so
            }
            queue.add(EOF);
        }, "kiln-fuzz-" + backend + "-answers");
        t.setDaemon(true);
        t.start();
        try {
            String ready = queue.poll(120, TimeUnit.SECONDS);
            if (!FuzzWorker.READY.equals(ready)) {
                throw died("it did not start (" + ready + ")");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the " + backend + " worker", e);
        }
    }

    /**
     * How the worker's main class is found: as this JVM found Kiln. On the class path, the same
     * class path; when Kiln runs as named modules, the same module path with every module on it
     * resolved (the backends are bound as services, as in this JVM), the class path beside it for
     * what is there (a jar whose descriptor cannot be resolved), and the main class as its module's.
     */
    static List<String> launch() {
        Module kiln = FuzzWorker.class.getModule();
        String classPath = System.getProperty("java.class.path", "");
        if (!kiln.isNamed()) {
            return List.of("-cp", classPath, FuzzWorker.class.getName());
        }
        List<String> args = new ArrayList<>(List.of("-p", System.getProperty("jdk.module.path"), "--add-modules",
                "ALL-MODULE-PATH"));
        if (!classPath.isEmpty()) {
            args.addAll(List.of("-cp", classPath));
        }
        args.addAll(List.of("-m", kiln.getName() + "/" + FuzzWorker.class.getName()));
        return args;
    }

    @Override
    public void close() {
        if (process != null) {
            try {
                requests.close();
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (IOException | InterruptedException e) {
                process.destroyForcibly();
            }
        }
        try {
            Files.deleteIfExists(log);
        } catch (IOException e) {
            // a temporary file; the system cleans it up
        }
    }

    /** The worker died or hung during a request. */
    private static final class WorkerDied extends Exception {
        WorkerDied(String message) {
            super(message);
        }
    }
}
