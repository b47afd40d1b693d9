package dev.kiln.conformance;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.PlanReport;
import dev.kiln.Tensor;
import dev.kiln.conformance.fuzz.CaseChecker;
import dev.kiln.conformance.fuzz.FuzzOptions;
import dev.kiln.conformance.fuzz.FuzzReport;
import dev.kiln.conformance.fuzz.Fuzzer;
import dev.kiln.conformance.fuzz.InProcessRunner;
import dev.kiln.graph.Graph;
import dev.kiln.optimize.Optimizer;
import dev.kiln.reference.ReferenceBackend;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The conformance check a backend author runs: the same case, with the same weights and inputs,
 * compiled for the backend under test and for the reference backend, and every output compared
 * with the case's tolerance. Placement is part of the check: every node must run on the backend
 * under test, or fall back as an {@link AllowedFallbacks} entry written by the caller allows, with
 * its reason. Otherwise a backend that refuses most nodes would pass by comparing the reference
 * backend with itself.
 *
 * <pre>{@code
 * Engine engine = Engine.withBackends(List.of(new ReferenceBackend(), new MyBackend()));
 * AllowedFallbacks allowed = AllowedFallbacks.none().allow("my-backend", "LRN", "no LRN kernel yet");
 * for (Case c : OpCases.all()) {
 *     if (Conformance.fallsBackEntirely(engine, "my-backend", c, allowed)) continue; // allowed, said why
 *     CheckResult r = Conformance.check(engine, "my-backend", c, allowed);
 *     if (!r.passed()) System.out.println(r.describe());
 * }
 * }</pre>
 */
public final class Conformance {
    private Conformance() {
    }

    /**
     * Whether {@code backendId} runs at least one node of {@code c} once compiled: a case it runs
     * none of would only compare the reference backend with itself. It says nothing of the nodes
     * that fall back; {@link #fallsBackEntirely} decides which cases to leave out by an allow-list.
     */
    public static boolean runsAnyNode(Engine engine, String backendId, Case c) {
        try (Graph graph = c.buildGraph();
             CompiledModel model = engine.compile(graph, c.compileOptions(backendId))) {
            return model.planForBatch(c.batch()).placements().stream().anyMatch(p -> p.backend().equals(backendId));
        }
    }

    /**
     * Where each node of {@code c} runs once compiled for {@code backendId} at the case's batch,
     * without running it: on the backend, or elsewhere with the reason.
     */
    public static List<PlanReport.Placement> placements(Engine engine, String backendId, Case c) {
        try (Graph graph = c.buildGraph();
             CompiledModel model = engine.compile(graph, c.compileOptions(backendId))) {
            return model.planForBatch(c.batch()).placements();
        }
    }

    /**
     * Whether every node of {@code c} falls back from {@code backendId} and {@code allowed}
     * allows each: a case to leave out (with the entries' reasons in the report), since checking
     * it would compare the reference backend with itself. False when any node runs on the backend,
     * and false when any falls back unexpectedly: that case must be checked, and fails.
     */
    public static boolean fallsBackEntirely(Engine engine, String backendId, Case c, AllowedFallbacks allowed) {
        List<PlanReport.Placement> placements = placements(engine, backendId, c);
        return placements.stream().noneMatch(p -> p.backend().equals(backendId))
                && allowed.unexpected(backendId, placements).isEmpty();
    }

    /**
     * Runs {@code c} on {@code backendId} and on the reference backend of the same engine and
     * compares the outputs; every node must run on the backend (see
     * {@link #check(Engine, String, Case, AllowedFallbacks)} to allow fallbacks). A backend that
     * fails to compile, which the engine would silently skip, fails the check.
     *
     * @throws IllegalArgumentException if the engine has no reference backend to compare with
     */
    public static CheckResult check(Engine engine, String backendId, Case c) {
        return check(engine, backendId, c, AllowedFallbacks.none());
    }

    /**
     * As {@link #check(Engine, String, Case)}, where nodes may fall back as {@code allowed}
     * allows: nodes the backend does not support fall back as they would in use, and any that
     * no entry allows fails the check ({@link CheckResult#unexpectedFallbacks()}).
     *
     * @throws IllegalArgumentException if the engine has no reference backend to compare with
     */
    public static CheckResult check(Engine engine, String backendId, Case c, AllowedFallbacks allowed) {
        return check(engine, backendId, c, allowed, referenceOutputs(engine, c));
    }

    /**
     * The reference backend's outputs for {@code c}, to check several backends on the same case
     * without running the reference backend for each.
     *
     * @throws IllegalArgumentException if the engine has no reference backend
     */
    public static ReferenceOutputs referenceOutputs(Engine engine, Case c) {
        boolean hasReference = engine.backends().stream()
                .anyMatch(b -> b.id().equals(ReferenceBackend.ID) && b.available());
        if (!hasReference) {
            throw new IllegalArgumentException("Conformance.check compares with the '" + ReferenceBackend.ID
                    + "' backend, which this engine lacks; create it with Engine.withBackends(List.of(new"
                    + " ReferenceBackend(), yourBackend))");
        }
        try (Graph graph = c.buildGraph();
             CompiledModel reference = engine.compile(graph, c.compileOptions(ReferenceBackend.ID))) {
            Map<String, Tensor> inputs = c.inputs(graph);
            Map<String, Tensor> outputs = Map.of();
            try {
                outputs = reference.run(inputs);
                Map<String, float[]> values = new LinkedHashMap<>();
                for (String output : graph.outputs()) {
                    values.put(output, outputs.get(output).toFloatArray());
                }
                return new ReferenceOutputs(c, values);
            } finally {
                inputs.values().forEach(Tensor::close);
                outputs.values().forEach(Tensor::close);
            }
        }
    }

    /**
     * As {@link #check(Engine, String, Case)}, against reference outputs computed before.
     *
     * @throws IllegalArgumentException if {@code expected} was computed for another case
     */
    public static CheckResult check(Engine engine, String backendId, Case c, ReferenceOutputs expected) {
        return check(engine, backendId, c, AllowedFallbacks.none(), expected);
    }

    /**
     * As {@link #check(Engine, String, Case, AllowedFallbacks)}, against reference outputs
     * computed before.
     *
     * @throws IllegalArgumentException if {@code expected} was computed for another case
     */
    public static CheckResult check(Engine engine, String backendId, Case c, AllowedFallbacks allowed,
                                    ReferenceOutputs expected) {
        if (!expected.forCase().equals(c)) {
            throw new IllegalArgumentException("reference outputs of case '" + expected.forCase().name()
                    + "' cannot check case '" + c.name() + "': compute them with Conformance.referenceOutputs for"
                    + " this case");
        }
        try (Graph graph = c.buildGraph();
             CompiledModel tested = engine.compile(graph, c.compileOptions(backendId))) {
            PlanReport plan = tested.planForBatch(c.batch());
            // Counted on the compiled plan, not the graph: compilation may rewrite nodes (fusion).
            int onBackend = (int) plan.placements().stream().filter(p -> p.backend().equals(backendId)).count();
            int nodeCount = plan.placements().size();
            List<String> details = new ArrayList<>();
            List<String> unexpected = allowed.unexpected(backendId, plan.placements());
            boolean passed = unexpected.isEmpty();
            details.addAll(unexpected);
            Map<AllowedFallbacks.Entry, Integer> allowedFallbacks = new LinkedHashMap<>();
            for (PlanReport.Placement p : plan.placements()) {
                AllowedFallbacks.Entry allowance = allowed.allowing(backendId, p);
                if (allowance != null) {
                    allowedFallbacks.merge(allowance, 1, Integer::sum);
                }
            }
            allowedFallbacks.forEach((entry, nodes) -> details.add(nodes + " node(s) fell back as allowed: " + entry));
            for (String skipped : plan.skippedBackends()) {
                if (skipped.startsWith(backendId + ":")) {
                    details.add("the backend was skipped: " + skipped);
                    passed = false;
                }
            }
            Map<String, Tensor> inputs = c.inputs(graph);
            Map<String, Tensor> actual = Map.of();
            try {
                actual = tested.run(inputs);
                double maxAbs = 0;
                double maxRel = 0;
                for (String output : graph.outputs()) {
                    Tolerance.Comparison comparison = c.tolerance().compare(actual.get(output).toFloatArray(),
                            expected.values(output));
                    details.add("output '" + output + "' " + actual.get(output).shape() + ": " + comparison);
                    passed &= comparison.passed();
                    maxAbs = Math.max(maxAbs, comparison.maxAbsError());
                    maxRel = Math.max(maxRel, comparison.maxRelativeError());
                }
                details.add("tolerance: " + c.tolerance());
                return new CheckResult(c.name(), backendId, onBackend, nodeCount, unexpected, maxAbs, maxRel, passed,
                        details);
            } finally {
                inputs.values().forEach(Tensor::close);
                actual.values().forEach(Tensor::close);
            }
        }
    }

    /**
     * Fuzzes a backend with {@code cases} generated graphs of the given seed (see
     * {@link Fuzzer}): each graph, optimized as Kiln optimizes it, is run
     * on {@code backendId} and on the reference backend of {@code engine} and compared value by value;
     * a failure is shrunk to a few nodes. Nodes the backend does not take fall back and are not
     * compared. Runs in this process; the report lists the findings with their shrunk recipes
     * ({@link FuzzReport#passed()} when there are none).
     *
     * <pre>{@code
     * FuzzReport r = Conformance.fuzz(engine, "my-backend", 42, 100);
     * assertTrue(r.passed(), r.findings()::toString);
     * }</pre>
     */
    public static FuzzReport fuzz(Engine engine, String backendId, long seed, int cases) {
        return fuzz(engine, backendId, FuzzOptions.cases(seed, cases));
    }

    /** As {@link #fuzz(Engine, String, long, int)} with every option (a folder for the findings, the graph size). */
    public static FuzzReport fuzz(Engine engine, String backendId, FuzzOptions options) {
        if (backendId.equals(ReferenceBackend.ID)) {
            throw new IllegalArgumentException("fuzzing compares a backend with the reference backend; name another"
                    + " backend than '" + backendId + "'");
        }
        Path scratch;
        try {
            scratch = Files.createTempDirectory("kiln-fuzz");
        } catch (IOException e) {
            throw new UncheckedIOException("creating a scratch folder for the fuzzer", e);
        }
        try (InProcessRunner runner = new InProcessRunner(engine, new CaseChecker(engine, new Optimizer(), scratch))) {
            return new Fuzzer(options, Map.of(backendId, runner), line -> { }).run();
        } finally {
            scratch.toFile().delete();
        }
    }
}
