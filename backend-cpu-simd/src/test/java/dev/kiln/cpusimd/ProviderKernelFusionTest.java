package dev.kiln.cpusimd;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.Tensor;
import dev.kiln.cpusimd.provider.ProviderDepthwiseKernels;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Window;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.PlanReport;
import dev.kiln.spi.KernelProvider;
import dev.kiln.spi.KernelRegistry;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * cpu-simd fuses by what a kernel declares, not by its class: a provider's depthwise kernel
 * ({@link ProviderDepthwiseKernels}, another package, so through the public contract only) that
 * declares {@link FusedForm#DEPTHWISE_ROWS} runs as one step with the expansion convolution
 * before it; one that declares nothing runs on its own; both give the reference backend's answer.
 * One that declares the form without implementing its interface is refused naming it.
 */
class ProviderKernelFusionTest {
    private static final String FUSED = "one step with";

    /** x -> 1x1 expansion -> depthwise 3x3, both Relu6; 20 and 44 channels, a partial block at every lane count. */
    private static Graph block() {
        GraphBuilder b = ExpansionDepthwiseTest.block(20, 13, 11, 44, Window.square(3, 1, 1), 3,
                ActivationFunction.RELU6, new SplittableRandom(7));
        b.output("depthwise");
        return b.build();
    }

    private static Engine engine(KernelProvider provider) {
        return Engine.withBackends(List.of(new CpuSimdBackend(), new ReferenceBackend()),
                KernelRegistry.discover().with(provider), EngineOptions.defaults().withThreads(2));
    }

    /** Runs the block at batch 3 on cpu-simd with {@code provider} and on the reference backend; each node's placement. */
    private static Map<String, PlanReport.Placement> runAgainstReference(KernelProvider provider) {
        try (Engine engine = engine(provider); Graph g = block();
             Tensor x = ExpansionDepthwiseTest.random(new SplittableRandom(3), 3, 20, 13, 11);
             CompiledModel simd = engine.compile(g, new CompileOptions(CpuSimdBackend.ID, false));
             CompiledModel reference = engine.compile(g, new CompileOptions(ReferenceBackend.ID, false));
             Tensor expected = reference.run(x); Tensor actual = simd.run(x)) {
            ExpansionDepthwiseTest.assertClose(expected.toFloatArray(), actual.toFloatArray());
            Map<String, PlanReport.Placement> placed = simd.placements().stream()
                    .collect(Collectors.toMap(PlanReport.Placement::node, p -> p));
            assertEquals("test-provider", placed.get("depthwise").provider(), placed.toString());
            return placed;
        }
    }

    @Test
    void aProviderKernelThatDeclaresTheRowsFormIsFusedWithTheExpansion() {
        Map<String, PlanReport.Placement> placed = runAgainstReference(
                ProviderDepthwiseKernels.provider(ProviderDepthwiseKernels.Rows::new));
        assertTrue(placed.get("expand").algorithm().contains(FUSED), placed.toString());
        assertTrue(placed.get("depthwise").algorithm().contains(FUSED), placed.toString());
    }

    @Test
    void aProviderKernelThatDeclaresNothingRunsAsAStepOfItsOwn() {
        Map<String, PlanReport.Placement> placed = runAgainstReference(
                ProviderDepthwiseKernels.provider(k -> new ProviderDepthwiseKernels.Plain(k, false)));
        assertFalse(placed.get("expand").algorithm().contains(FUSED), placed.toString());
        assertFalse(placed.get("depthwise").algorithm().contains(FUSED), placed.toString());
    }

    @Test
    void aKernelDeclaringAFormWithoutItsInterfaceIsRefusedNamingIt() {
        KernelProvider claiming = ProviderDepthwiseKernels.provider(k -> new ProviderDepthwiseKernels.Plain(k, true));
        try (Engine engine = engine(claiming); Graph g = block();
             CompiledModel simd = engine.compile(g, new CompileOptions(CpuSimdBackend.ID, false))) {
            // cpu-simd's partition fails to compile and is dropped, with the reason kept.
            String reasons = String.join("; ", simd.skippedBackends());
            assertTrue(reasons.contains(ProviderDepthwiseKernels.Plain.class.getName())
                    && reasons.contains("DEPTHWISE_ROWS") && reasons.contains("DepthwiseRows"), reasons);
        }
    }
}
