package dev.kiln.conformance;

import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.reference.ReferenceKernel;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.KernelFactory;
import dev.kiln.spi.KernelProvider;
import dev.kiln.spi.KernelSupport;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel-level runner passes a right kernel, catches a deliberately wrong one (right but for
 * the last element of each row, which only sizes other than the kernel author's catch), runs each
 * kernel alone even where the backend's own would win, and refuses a provider of another contract.
 */
class KernelConformanceTest {

    private static boolean isRelu(BoundNode node) {
        return node.op() instanceof Activation a && a.function().equals(ActivationFunction.RELU);
    }

    /** A Relu over the whole value; {@code forgetsRowEnds}: the last element of each row is copied, not clamped. */
    private static KernelFactory<ReferenceKernel> relu(String name, boolean forgetsRowEnds) {
        return KernelFactory.of(ReferenceKernel.class, name,
                // Below the backend's own priority: the runner must still run it alone.
                node -> isRelu(node) ? KernelSupport.withPriority(KernelSupport.DEFAULT_PRIORITY - 50)
                        : KernelSupport.no("only Relu"),
                (node, context) -> {
                    int n = Math.toIntExact(node.outputShape().elementCount());
                    int row = node.outputShape().dim(node.outputShape().rank() - 1);
                    return (in, out) -> {
                        for (int i = 0; i < n; i++) {
                            boolean rowEnd = i % row == row - 1;
                            out[0][i] = forgetsRowEnds && rowEnd ? in[0][i] : Math.max(in[0][i], 0f);
                        }
                    };
                });
    }

    private static KernelProvider provider(int version, List<KernelFactory<?>> kernels) {
        return provider(ReferenceBackend.ID, version, kernels);
    }

    private static KernelProvider provider(String backend, int version, List<KernelFactory<?>> kernels) {
        return KernelProvider.of("test-kernels", backend, version, kernels);
    }

    @Test
    void aRightKernelPassesAndAWrongOneIsCaughtWithItsError() {
        KernelConformance.Report report = KernelConformance.check(ReferenceBackend.ID, provider(
                ReferenceKernel.CONTRACT_VERSION, List.of(relu("right-relu", false), relu("wrong-relu", true))));
        KernelConformance.KernelResult right = report.kernel("right-relu");
        KernelConformance.KernelResult wrong = report.kernel("wrong-relu");
        // Relu's op cases: 4-D with 20 and 13 channels and 2-D, batch 2.
        assertEquals(3, right.cases().size(), right.cases().toString());
        assertTrue(right.passed(), right.summary());
        assertTrue(right.cases().stream().allMatch(c -> c.maxAbsError() <= c.bound()), right.cases().toString());
        assertFalse(wrong.passed(), wrong.summary());
        assertFalse(report.passed(), report.describe());
        KernelConformance.CaseResult worst = wrong.worst();
        assertTrue(worst.maxAbsError() > worst.bound(), worst.toString());
        assertTrue(wrong.summary().startsWith("FAILED 'wrong-relu'") && wrong.summary().contains(worst.caseName()),
                wrong.summary());
        assertTrue(report.describe().contains("PASSED 'right-relu'"), report.describe());
    }

    @Test
    void aKernelThatRunsNoCaseIsNotCheckedAndFailsTheReport() {
        KernelFactory<ReferenceKernel> nothing = KernelFactory.of(ReferenceKernel.class, "runs-nothing",
                node -> KernelSupport.no("never"), (node, context) -> (in, out) -> { });
        KernelConformance.Report report = KernelConformance.check(ReferenceBackend.ID,
                provider(ReferenceKernel.CONTRACT_VERSION, List.of(nothing)));
        assertFalse(report.kernel("runs-nothing").checked());
        assertFalse(report.passed(), report.describe());
        assertTrue(report.describe().contains("NOT CHECKED 'runs-nothing'"), report.describe());
    }

    @Test
    void aProviderOfAnotherContractVersionIsRefusedNamingIt() {
        var e = assertThrows(IllegalArgumentException.class, () -> KernelConformance.check(ReferenceBackend.ID,
                provider(ReferenceKernel.CONTRACT_VERSION + 1, List.of(relu("right-relu", false)))));
        assertTrue(e.getMessage().contains("'test-kernels'") && e.getMessage().contains("version "
                + (ReferenceKernel.CONTRACT_VERSION + 1)), e.getMessage());
    }

    @Test
    void aProviderForAnotherBackendOrAnUnknownBackendIsAnError() {
        KernelProvider forReference = provider(ReferenceKernel.CONTRACT_VERSION, List.of(relu("right-relu", false)));
        assertThrows(IllegalArgumentException.class, () -> KernelConformance.check("no-such-backend", forReference));
        KernelProvider forElsewhere = provider("elsewhere", 1, List.of());
        var e = assertThrows(IllegalArgumentException.class,
                () -> KernelConformance.check(new ReferenceBackend(), forElsewhere));
        assertTrue(e.getMessage().contains("'elsewhere'"), e.getMessage());
    }
}
