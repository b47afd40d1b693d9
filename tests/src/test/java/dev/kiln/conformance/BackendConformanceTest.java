package dev.kiln.conformance;

import dev.kiln.Engine;
import dev.kiln.ExtendedSuite;
import dev.kiln.PlanReport;
import dev.kiln.conformance.blocked.BlockedTestBackend;
import dev.kiln.graph.Graph;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.runtime.BackendRegistry;
import dev.kiln.spi.Backend;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every available backend on the class path, plus the test-only blocked backend, against the
 * reference backend on every op case and every model case. A backend added to the class path
 * is walked with no new test code. Placement is checked with the values: a case passes only when
 * every node ran on the backend under test or fell back as {@link ExpectedFallbacks} allows,
 * with its reason (none for the six networks on cpu-simd, onednn and opencl). Pairs that cannot
 * say anything are left out or marked:
 * <ul>
 *   <li>the reference backend against itself is not a test at all;</li>
 *   <li>unavailable backends are listed, with their reasons, and not walked;</li>
 *   <li>an op case whose every node falls back as {@link ExpectedFallbacks#OP_CASES} allows is
 *       listed on stdout with the reason and not generated: it would compare the reference with
 *       itself. One that falls back without an allowance is generated, and fails.</li>
 * </ul>
 * The model cases run at batch 1 on every backend walked, and at batch {@link #LARGER_BATCH}
 * too on the backends found on the class path (cpu-simd, onednn, opencl and any plugin), as
 * issues 8, 9 and 10 ask; the test-only blocked backend stays at batch 1. The reference outputs
 * of each model case are computed once and shared by the backends.
 */
class BackendConformanceTest {
    /** The batch size beyond 1 that the model cases run at on the backends found on the class path. */
    static final int LARGER_BATCH = 4;

    private static final Engine ENGINE = engineWithEveryBackend();
    private static final List<Case> MODEL_CASES = ModelCases.representatives(1);
    /**
     * Networks beyond this many multiply-adds per image run at {@link #LARGER_BATCH} only in the
     * extended run: VGG-16 at 224x224 (15.5 G) took the reference backend a minute and more at
     * batch 4 on a 2-core host, and adds little, since the parity tests hold every backend to
     * PyTorch on VGG-16 at batch 4. The others are under 2 G at their reduced resolutions.
     */
    static final long LARGER_BATCH_MAX_MACS = 4_000_000_000L;
    private static final List<Case> MODEL_CASES_LARGER_BATCH = largerBatchCases();
    /** Per model case (by identity: the lists above hold each once), the reference backend's outputs. */
    private static final Map<Case, ReferenceOutputs> REFERENCE_OUTPUTS = new ConcurrentHashMap<>();

    private static Engine engineWithEveryBackend() {
        BackendRegistry discovered = BackendRegistry.discover();
        List<Backend> backends = new ArrayList<>();
        discovered.entries().forEach(e -> backends.add(e.backend()));
        backends.add(new BlockedTestBackend());
        return Engine.withBackends(backends);
    }

    private static List<Case> largerBatchCases() {
        List<Case> cases = new ArrayList<>();
        for (Case c : ModelCases.representatives(LARGER_BATCH)) {
            long macs;
            try (Graph graph = c.buildGraph()) {
                macs = graph.macs(1);
            }
            if (macs <= LARGER_BATCH_MAX_MACS || ExtendedSuite.enabled()) {
                cases.add(c);
            } else {
                System.out.println(ExtendedSuite.leftOut("'" + c.name() + "' (" + macs / 1_000_000 + " M multiply-adds"
                        + " per image)"));
            }
        }
        return List.copyOf(cases);
    }

    /** The batch sizes the model cases run at on this backend. */
    static List<Integer> modelBatches(String backend) {
        return backend.equals(BlockedTestBackend.ID) ? List.of(1) : List.of(1, LARGER_BATCH);
    }

    /** The ids walked: every available backend but the reference one, highest rank first. */
    static List<String> backendsUnderTest() {
        return ENGINE.backends().stream()
                .filter(Engine.BackendInfo::available)
                .map(Engine.BackendInfo::id)
                .filter(id -> !id.equals(ReferenceBackend.ID))
                .toList();
    }

    @BeforeAll
    static void sayWhatRunsAndWhatDoesNot() {
        StringBuilder report = new StringBuilder("Conformance against the reference backend:\n");
        for (Engine.BackendInfo b : ENGINE.backends()) {
            String status;
            if (b.id().equals(ReferenceBackend.ID)) {
                status = "not walked: it is the oracle (comparing it with itself would test nothing)";
            } else if (b.available()) {
                status = "walked; model cases at batch " + modelBatches(b.id());
            } else {
                status = "not walked, unavailable: " + b.reason();
            }
            report.append("  ").append(b.id()).append(" (rank ").append(b.rank()).append("): ").append(status)
                    .append('\n');
        }
        for (String failure : BackendRegistry.discover().loadFailures()) {
            report.append("  a backend failed to load: ").append(failure).append('\n');
        }
        System.out.print(report);
    }

    /**
     * Op cases a backend is expected to run; those whose every node falls back as allowed are
     * listed on stdout with the allowance, not run, since they would compare the reference
     * backend with itself.
     */
    static Stream<Arguments> opCases() {
        List<Arguments> pairs = new ArrayList<>();
        for (String id : backendsUnderTest()) {
            List<String> leftOut = new ArrayList<>();
            for (Case c : OpCases.all()) {
                List<PlanReport.Placement> placements = Conformance.placements(ENGINE, id, c);
                boolean allAllowedElsewhere = placements.stream()
                        .allMatch(p -> ExpectedFallbacks.OP_CASES.allowing(id, p) != null);
                if (allAllowedElsewhere) {
                    leftOut.add(c.name() + " (" + ExpectedFallbacks.OP_CASES.allowing(id, placements.getFirst()).why()
                            + ")");
                } else {
                    pairs.add(Arguments.of(id, c));
                }
            }
            System.out.println(id + ": " + leftOut.size() + " of " + OpCases.all().size()
                    + " op cases not run, their op falls back as allowed:\n  " + String.join("\n  ", leftOut));
        }
        return pairs.stream();
    }

    /** Every backend must run every node of every network, but where {@link ExpectedFallbacks#NETWORKS} allows. */
    static Stream<Arguments> modelCases() {
        return backendsUnderTest().stream().flatMap(id -> {
            Stream<Case> cases = MODEL_CASES.stream();
            if (modelBatches(id).contains(LARGER_BATCH)) {
                cases = Stream.concat(cases, MODEL_CASES_LARGER_BATCH.stream());
            }
            return cases.map(c -> Arguments.of(id, c));
        });
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("opCases")
    void opMatchesReference(String backend, Case c) {
        checkAgainstReference(backend, c);
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("modelCases")
    void modelMatchesReference(String backend, Case c) {
        ReferenceOutputs expected = REFERENCE_OUTPUTS.computeIfAbsent(c,
                k -> Conformance.referenceOutputs(ENGINE, k));
        report(backend, Conformance.check(ENGINE, backend, c, ExpectedFallbacks.NETWORKS, expected), c);
    }

    private static void checkAgainstReference(String backend, Case c) {
        report(backend, Conformance.check(ENGINE, backend, c, ExpectedFallbacks.OP_CASES), c);
    }

    private static void report(String backend, CheckResult result, Case c) {
        System.out.println(result.summary());
        assertTrue(result.exercised(), () -> backend + " runs none of the " + result.nodeCount() + " nodes of " + c);
        assertTrue(result.placedAsRequired(), () -> backend + " left nodes of " + c + " to other backends, which"
                + " ExpectedFallbacks does not allow:\n  " + String.join("\n  ", result.unexpectedFallbacks()));
        assertTrue(result.passed(), result::describe);
    }
}
