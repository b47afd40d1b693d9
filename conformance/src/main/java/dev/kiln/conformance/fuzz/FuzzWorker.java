package dev.kiln.conformance.fuzz;

import dev.kiln.Engine;
import dev.kiln.optimize.Optimizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The main class of a worker JVM ({@link WorkerJvmRunner}): reads requests from stdin, one a line,
 * and answers each on stdout with a line starting {@value #ANSWER}, so that whatever a native
 * library prints there is told apart. Requests: {@code check<TAB>target<TAB>recipe},
 * {@code write<TAB>target<TAB>dir<TAB>recipe} and, for the model-file fuzzer,
 * {@code file<TAB>backend<TAB>model.onnx} ({@link ModelFileCheck}). It ends at the end of its input.
 */
public final class FuzzWorker {
    static final String ANSWER = "@@kiln-fuzz";
    static final String READY = ANSWER + "-ready";

    private FuzzWorker() {
    }

    public static void main(String[] args) throws IOException {
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
                StandardCharsets.UTF_8);
        // Anything else that writes to System.out (a library's log) goes to stderr, off the protocol.
        System.setOut(System.err);
        Engine engine = Engine.create();
        Path scratch = Files.createTempDirectory("kiln-fuzz-worker");
        CaseChecker checker = new CaseChecker(engine, new Optimizer(), scratch);
        InProcessRunner runner = new InProcessRunner(engine, checker);
        ModelFileCheck fileChecks = null; // the model-file fuzzer's, with its own bounded engine: made on its first request
        out.println(READY);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                String[] f = line.split("\t", -1);
                try {
                    String answer = switch (f[0]) {
                        case "check" -> runner.check(GraphRecipe.parse(f[2]), f[1]).toLine();
                        case "write" -> runner.write(GraphRecipe.parse(f[3]), f[1], Path.of(f[2]))
                                .replace('\n', ' ').replace('\t', ' ');
                        case "file" -> {
                            if (fileChecks == null) {
                                fileChecks = new ModelFileCheck(scratch);
                            }
                            yield fileChecks.check(Path.of(f[2]), f[1]).toLine();
                        }
                        default -> throw new IllegalArgumentException("unknown request '" + f[0] + "'");
                    };
                    out.println(ANSWER + "\t" + answer);
                } catch (RuntimeException e) {
                    out.println(ANSWER + "-error\t" + String.valueOf(e).replace('\n', ' ').replace('\t', ' '));
                }
            }
        } finally {
            try (var files = Files.list(scratch)) {
                files.forEach(p -> p.toFile().delete());
            }
            Files.deleteIfExists(scratch);
        }
    }
}
