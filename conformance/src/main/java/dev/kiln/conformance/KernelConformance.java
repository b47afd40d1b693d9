package dev.kiln.conformance;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.PlanReport;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.KernelFactory;
import dev.kiln.spi.KernelProvider;
import dev.kiln.spi.KernelRegistry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * The kernel-level conformance runner: each kernel a {@link KernelProvider} offers for a backend,
 * run alone on that backend and compared with the reference backend's plain kernels.
 *
 * <p>For every kernel (factory) of the provider, the cases are the {@link OpCases} whose node it
 * says it runs ({@link KernelFactory#supports}): odd sizes, channel counts that leave a partial
 * block at 4, 8 and 16 lanes, asymmetric padding, batches above 1, every post-op. Each case is compiled on
 * the backend with that kernel as the backend's only kernel (the backend's own and other
 * providers' kernels for it are left out, so nothing else can take the node), run on the case's
 * seeded inputs, and compared with the reference backend's outputs under the case's
 * {@link Tolerance} (the bound {@code kiln verify} holds a lone node to). A case fails when the
 * node ran anywhere but in that kernel, when compiling or running throws, or when an output is
 * out of tolerance.
 *
 * <pre>{@code
 * KernelConformance.Report r = KernelConformance.check("cpu-simd", new MyKernels());
 * System.out.println(r.describe());   // a line per kernel: PASSED/FAILED, cases, worst error / bound
 * assertTrue(r.passed(), r::describe);
 * }</pre>
 */
public final class KernelConformance {
    private KernelConformance() {
    }

    /** One case run through one kernel. */
    public record CaseResult(String caseName, boolean passed, double maxAbsError, double bound, String detail) {
        /** The error as a fraction of the bound: at most 1 when the case passed on its values. */
        public double errorOverBound() {
            return bound > 0 ? maxAbsError / bound : maxAbsError == 0 ? 0 : Double.POSITIVE_INFINITY;
        }
    }

    /**
     * One kernel's cases. Passed when it ran at least one case and every case passed; a kernel no
     * case exercises is {@linkplain #checked() not checked}, which fails the report.
     */
    public record KernelResult(String kernel, List<CaseResult> cases) {
        public KernelResult {
            cases = List.copyOf(cases);
        }

        public boolean checked() {
            return !cases.isEmpty();
        }

        public boolean passed() {
            return checked() && cases.stream().allMatch(CaseResult::passed);
        }

        /** The case with the largest error relative to its bound, or null when none ran. */
        public CaseResult worst() {
            CaseResult worst = null;
            for (CaseResult c : cases) {
                if (worst == null || (!c.passed() && worst.passed()) || (c.passed() == worst.passed()
                        && c.errorOverBound() > worst.errorOverBound())) {
                    worst = c;
                }
            }
            return worst;
        }

        /** A line: the verdict, the kernel, how many cases, the worst error against its bound. */
        public String summary() {
            if (!checked()) {
                return "NOT CHECKED '" + kernel + "': no op case is a node it runs";
            }
            long failed = cases.stream().filter(c -> !c.passed()).count();
            CaseResult w = worst();
            return (passed() ? "PASSED" : "FAILED") + " '" + kernel + "': " + (cases.size() - failed) + "/"
                    + cases.size() + " cases; worst '" + w.caseName() + "': max |error| "
                    + String.format("%.3g", w.maxAbsError()) + " against a bound of " + String.format("%.3g", w.bound())
                    + (w.passed() ? "" : " (" + w.detail() + ")");
        }
    }

    /** Every kernel of one provider on one backend. */
    public record Report(String backend, String provider, List<KernelResult> kernels) {
        public Report {
            kernels = List.copyOf(kernels);
        }

        /** Every kernel checked and passed (and there was at least one). */
        public boolean passed() {
            return !kernels.isEmpty() && kernels.stream().allMatch(KernelResult::passed);
        }

        /** The result of the kernel of this name. */
        public KernelResult kernel(String name) {
            return kernels.stream().filter(k -> k.kernel().equals(name)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("provider '" + provider + "' offers no kernel '"
                            + name + "' for backend '" + backend + "'"));
        }

        /** A heading, then a line per kernel. */
        public String describe() {
            StringBuilder s = new StringBuilder((passed() ? "PASSED" : "FAILED") + ": kernels of provider '" + provider
                    + "' on backend '" + backend + "'");
            kernels.forEach(k -> s.append("\n  ").append(k.summary()));
            return s.toString();
        }
    }

    /**
     * Checks {@code provider}'s kernels on the backend of this id, found with
     * {@link ServiceLoader} on this class's loader.
     *
     * @throws IllegalArgumentException when no such backend is installed, it is not available here,
     *                                  or the provider is for another backend
     */
    public static Report check(String backendId, KernelProvider provider) {
        if (backendId.equals(ReferenceBackend.ID)) {
            return check(new ReferenceBackend(), provider);
        }
        for (Backend b : ServiceLoader.load(Backend.class, KernelConformance.class.getClassLoader())) {
            if (b.id().equals(backendId)) {
                return check(b, provider);
            }
        }
        throw new IllegalArgumentException("no backend '" + backendId + "' is installed to check the kernels of"
                + " provider '" + provider.name() + "' on");
    }

    /** As {@link #check(String, KernelProvider)}, on this backend instance. */
    public static Report check(Backend backend, KernelProvider provider) {
        if (!provider.backend().equals(backend.id())) {
            throw new IllegalArgumentException("provider '" + provider.name() + "' offers kernels for backend '"
                    + provider.backend() + "', not '" + backend.id() + "'");
        }
        if (!backend.availability().available()) {
            throw new IllegalArgumentException("backend '" + backend.id() + "' is not available here: "
                    + backend.availability().reason());
        }
        KernelRegistry discovered = KernelRegistry.discover();
        // The provider must pass the contract check like any other: a refused one is reported, not run.
        KernelRegistry alone = new KernelRegistry(List.of(provider));
        if (!alone.loadFailures().isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", alone.loadFailures()));
        }
        // Every other backend's kernels (the reference backend's, which computes the expected outputs,
        // among them); none of this backend's but the one kernel under test.
        List<KernelProvider> others = new ArrayList<>();
        var found = ServiceLoader.load(KernelProvider.class, KernelConformance.class.getClassLoader()).iterator();
        while (true) {
            try {
                if (!found.hasNext()) {
                    break;
                }
                KernelProvider p = found.next();
                if (!p.backend().equals(backend.id())) {
                    others.add(p);
                }
            } catch (ServiceConfigurationError | LinkageError e) {
                // a provider that fails to load is KernelRegistry.discover's to report, not this check's
            }
        }
        List<Case> cases = OpCases.all();
        Map<String, ReferenceOutputs> expected = new HashMap<>();
        try (Engine reference = Engine.withBackends(List.of(new ReferenceBackend()), discovered,
                EngineOptions.defaults())) {
            List<KernelResult> results = new ArrayList<>();
            for (KernelFactory<?> factory : provider.kernels()) {
                List<KernelProvider> providers = new ArrayList<>(others);
                // The kernel under test, alone, under its provider's name and contract version.
                providers.add(KernelProvider.of(provider.name(), provider.backend(), provider.contractVersion(),
                        List.of(factory)));
                List<Backend> backends = backend.id().equals(ReferenceBackend.ID) ? List.of(backend)
                        : List.of(backend, new ReferenceBackend());
                List<CaseResult> caseResults = new ArrayList<>();
                try (Engine tested = Engine.withBackends(backends, new KernelRegistry(providers),
                        EngineOptions.defaults())) {
                    for (Case c : cases) {
                        if (!offered(factory, c)) {
                            continue;
                        }
                        ReferenceOutputs want = expected.computeIfAbsent(c.name(),
                                k -> Conformance.referenceOutputs(reference, c));
                        caseResults.add(runCase(tested, backend.id(), provider.name(), factory.name(), c, want));
                    }
                }
                results.add(new KernelResult(factory.name(), caseResults));
            }
            return new Report(backend.id(), provider.name(), results);
        }
    }

    /** Whether the kernel says it runs the one node of {@code c} at the case's batch. */
    private static boolean offered(KernelFactory<?> factory, Case c) {
        try (Graph graph = c.buildGraph()) {
            Map<String, Shape> shapes = graph.inferShapes(graph.inputShapesForBatch(c.batch()));
            List<BoundNode> nodes = BoundNode.bindAll(graph, shapes);
            return nodes.size() == 1 && factory.supports(nodes.getFirst()).supported();
        }
    }

    private static CaseResult runCase(Engine tested, String backendId, String provider, String kernel, Case c,
                                      ReferenceOutputs expected) {
        try (Graph graph = c.buildGraph();
             CompiledModel model = tested.compile(graph, c.compileOptions(backendId))) {
            for (PlanReport.Placement p : model.planForBatch(c.batch()).placements()) {
                if (!p.backend().equals(backendId) || !p.kernel().equals(kernel) || !p.provider().equals(provider)) {
                    return new CaseResult(c.name(), false, Double.NaN, Double.NaN, "node '" + p.node() + "' ran on "
                            + p.backend() + " with kernel '" + p.kernel() + "' of '" + p.provider() + "', not this"
                            + " kernel, although it said it runs it: " + p.reason());
                }
            }
            Map<String, Tensor> inputs = c.inputs(graph);
            Map<String, Tensor> actual = Map.of();
            try {
                actual = model.run(inputs);
                boolean passed = true;
                double maxAbs = 0;
                double bound = Double.POSITIVE_INFINITY;
                String detail = "";
                for (String output : graph.outputs()) {
                    Tolerance.Comparison comparison = c.tolerance().compare(actual.get(output).toFloatArray(),
                            expected.values(output));
                    if (!comparison.passed() && passed) {
                        detail = "output '" + output + "': " + comparison;
                    }
                    passed &= comparison.passed();
                    maxAbs = Math.max(maxAbs, comparison.maxAbsError());
                    bound = Math.min(bound, comparison.bound());
                }
                return new CaseResult(c.name(), passed, maxAbs, bound, detail);
            } finally {
                inputs.values().forEach(Tensor::close);
                actual.values().forEach(Tensor::close);
            }
        } catch (RuntimeException e) {
            return new CaseResult(c.name(), false, Double.NaN, Double.NaN, "failed: " + e);
        }
    }
}
