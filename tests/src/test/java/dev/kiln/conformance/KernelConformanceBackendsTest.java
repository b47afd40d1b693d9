package dev.kiln.conformance;

import dev.kiln.RequiredBackend;
import dev.kiln.Shape;
import dev.kiln.cpusimd.BlockedLayout;
import dev.kiln.cpusimd.CpuSimdBackend;
import dev.kiln.cpusimd.SimdKernel;
import dev.kiln.cpusimd.SimdKernels;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.onednn.OneDnnBackend;
import dev.kiln.onednn.OneDnnKernels;
import dev.kiln.opencl.OpenClBackend;
import dev.kiln.opencl.OpenClKernels;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.HostThreads;
import dev.kiln.spi.KernelFactory;
import dev.kiln.spi.KernelProvider;
import dev.kiln.spi.KernelSupport;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel-level runner on the real backends: every kernel of cpu-simd's, onednn's and opencl's
 * own providers passes, each run alone; a provider's Relu for cpu-simd that assumes the channels fill whole blocks of the machine's lane
 * count (it computes only the full blocks) is caught by the cases whose channels do not.
 */
class KernelConformanceBackendsTest {

    /** Relu over NCHWc that skips the last, partial channel block: right only when C is a multiple of the lanes. */
    static final class FullBlocksOnlyRelu implements SimdKernel {
        private final Shape shape;

        FullBlocksOnlyRelu(BoundNode node) {
            this.shape = node.outputShape();
        }

        @Override
        public String algorithm() {
            return "relu over full channel blocks";
        }

        @Override
        public void execute(float[][] inputs, float[][] outputs, float[] scratch, HostThreads threads) {
            int lanes = BlockedLayout.LANES;
            int blocks = BlockedLayout.blocks(shape.dim(1));
            int fullBlocks = shape.dim(1) / lanes;
            int plane = shape.dim(2) * shape.dim(3) * lanes;
            for (int n = 0; n < shape.dim(0); n++) {
                for (int b = 0; b < fullBlocks; b++) {
                    int from = (n * blocks + b) * plane;
                    for (int i = from; i < from + plane; i++) {
                        outputs[0][i] = Math.max(inputs[0][i], 0f);
                    }
                }
            }
        }
    }

    private static KernelProvider fullBlocksOnly() {
        KernelFactory<SimdKernel> relu = KernelFactory.of(SimdKernel.class, "full-blocks-relu",
                node -> node.op() instanceof Activation a && a.function().equals(ActivationFunction.RELU)
                        && node.outputShape().rank() == 4 ? KernelSupport.yes() : KernelSupport.no("4-D Relu only"),
                (node, context) -> new FullBlocksOnlyRelu(node));
        return KernelProvider.of("full-blocks", CpuSimdBackend.ID, SimdKernel.CONTRACT_VERSION, List.of(relu));
    }

    @Test
    void everyKernelOfCpuSimdsOwnProviderPassesAlone() {
        KernelConformance.Report report = KernelConformance.check(CpuSimdBackend.ID, new SimdKernels());
        System.out.println(report.describe());
        assertTrue(report.passed(), report.describe());
    }

    @Test
    void everyKernelOfOpenClsOwnProviderPassesAlone() {
        OpenClBackend opencl = new OpenClBackend();
        var availability = opencl.availability();
        RequiredBackend.assumeAvailable(OpenClBackend.ID, availability.available(), availability.reason());
        KernelConformance.Report report = KernelConformance.check(opencl, new OpenClKernels());
        System.out.println(report.describe());
        assertTrue(report.passed(), report.describe());
    }

    @Test
    void everyKernelOfOneDnnsOwnProviderPassesAlone() {
        OneDnnBackend onednn = new OneDnnBackend();
        var availability = onednn.availability();
        RequiredBackend.assumeAvailable(OneDnnBackend.ID, availability.available(), availability.reason());
        KernelConformance.Report report = KernelConformance.check(OneDnnBackend.ID, new OneDnnKernels());
        System.out.println(report.describe());
        assertTrue(report.passed(), report.describe());
    }

    @Test
    void aKernelThatAssumesWholeBlocksOfLanesIsCaught() {
        KernelConformance.Report report = KernelConformance.check(CpuSimdBackend.ID, fullBlocksOnly());
        KernelConformance.KernelResult relu = report.kernel("full-blocks-relu");
        System.out.println(report.describe());
        assertFalse(relu.passed(), relu.summary());
        // Caught where the channels are not a whole number of blocks of this machine's lanes: 13
        // channels on every machine, 20 with 8 or 16 lanes (not with 4).
        assertFalse(caseNamed(relu, "Relu [N,13,3,5]").passed(), relu.summary());
        KernelConformance.CaseResult twenty = caseNamed(relu, "Relu [N,20,5,7]");
        assertEquals(20 % BlockedLayout.LANES == 0, twenty.passed(), BlockedLayout.LANES + " lanes: " + twenty);
    }

    private static KernelConformance.CaseResult caseNamed(KernelConformance.KernelResult kernel, String name) {
        return kernel.cases().stream().filter(c -> c.caseName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no case '" + name + "' in " + kernel.cases()));
    }
}
