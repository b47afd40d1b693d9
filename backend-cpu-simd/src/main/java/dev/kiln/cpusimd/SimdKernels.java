package dev.kiln.cpusimd;

import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.KernelFactory;
import dev.kiln.spi.KernelProvider;
import dev.kiln.spi.KernelSupport;

import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The cpu-simd backend's own kernels, registered like anyone else's (a
 * {@code META-INF/services/dev.kiln.spi.KernelProvider} line), one class per kind of kernel in
 * this package. Each kernel class answers for itself which nodes it runs.
 */
public final class SimdKernels implements KernelProvider {
    public static final String PROVIDER = "cpu-simd";

    private static final List<KernelFactory<?>> KERNELS = List.of(
            kernel("conv-gemm", n -> n.op() instanceof Conv ? ConvGemmKernel.unsupportedReason(n) : "not a Conv",
                    KernelSupport.DEFAULT_PRIORITY, (n, c) -> new ConvGemmKernel(n, c.weights())),
            KernelFactory.of(SimdKernel.class, "conv-winograd", node -> {
                String reason = node.op() instanceof Conv ? WinogradConvKernel.unsupportedReason(node) : "not a Conv";
                // Where it runs but loses, it stays below conv-gemm: a plugin or an override may still pick it.
                return reason != null ? KernelSupport.no(reason) : KernelSupport.withPriority(
                        KernelSupport.DEFAULT_PRIORITY + (WinogradConvKernel.wins(node) ? 5 : -5));
            }, (n, c) -> new WinogradConvKernel(n, c.weights())),
            kernel("conv-depthwise", n -> n.op() instanceof Conv ? DepthwiseConvKernel.unsupportedReason(n)
                            : "not a Conv",
                    // Where both run a node (a depthwise conv of few channels) the depthwise kernel does less work.
                    KernelSupport.DEFAULT_PRIORITY + 10, (n, c) -> new DepthwiseConvKernel(n, c.weights())),
            kernel("gemm", n -> n.op() instanceof Gemm ? ConvGemmKernel.unsupportedGemmReason(n) : "not a Gemm",
                    KernelSupport.DEFAULT_PRIORITY, (n, c) -> ConvGemmKernel.forGemm(n, ((Gemm) n.op()).postOps(), c.weights())),
            kernel("pool", PoolKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY,
                    (n, c) -> new PoolKernel(n)),
            kernel("global-pool", GlobalPoolKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY,
                    (n, c) -> new GlobalPoolKernel(n)),
            kernel("squeeze-excitation", SqueezeExcitationKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY,
                    (n, c) -> new SqueezeExcitationKernel(n, c.weights())),
            kernel("elementwise", ElementwiseKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY,
                    (n, c) -> new ElementwiseKernel(n)),
            kernel("concat", ConcatKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY,
                    (n, c) -> new ConcatKernel(n)),
            kernel("softmax", SoftmaxKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY,
                    (n, c) -> new SoftmaxKernel(n)),
            kernel("reorder", ReorderKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY,
                    (n, c) -> new ReorderKernel(n)));

    @Override
    public String name() {
        return PROVIDER;
    }

    @Override
    public String backend() {
        return CpuSimdBackend.ID;
    }

    @Override
    public int contractVersion() {
        return SimdKernel.CONTRACT_VERSION;
    }

    @Override
    public List<KernelFactory<?>> kernels() {
        return KERNELS;
    }

    /**
     * A factory from a kernel class's own answer ({@code unsupportedReason}: null when it runs the
     * node) and its constructor.
     */
    private static KernelFactory<SimdKernel> kernel(String name, Function<BoundNode, String> unsupportedReason,
                                                    int priority, BiFunction<BoundNode, CompileContext, SimdKernel> create) {
        return KernelFactory.of(SimdKernel.class, name, node -> {
            String reason = unsupportedReason.apply(node);
            return reason == null ? KernelSupport.withPriority(priority) : KernelSupport.no(reason);
        }, create);
    }
}
