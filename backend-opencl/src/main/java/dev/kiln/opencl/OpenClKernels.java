package dev.kiln.opencl;

import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.KernelFactory;
import dev.kiln.spi.KernelProvider;
import dev.kiln.spi.KernelSupport;

import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The OpenCL backend's own kernels, registered like anyone else's (a
 * {@code META-INF/services/dev.kiln.spi.KernelProvider} line); each kernel class answers for
 * itself which nodes it runs.
 */
public final class OpenClKernels implements KernelProvider {
    public static final String PROVIDER = "opencl";

    private static final List<KernelFactory<?>> KERNELS = List.of(
            kernel("conv-gemm", ConvGemmKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY,
                    (n, c) -> new ConvGemmKernel(n, c.device().kind())),
            // Where both run a node the depthwise kernel wins: it has no reduction over channels to tile.
            kernel("conv-depthwise", DepthwiseConvKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY + 10,
                    (n, c) -> new DepthwiseConvKernel(n, c.device().kind())),
            kernel("gemm", GemmKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY,
                    (n, c) -> new GemmKernel(n, c.device().kind())),
            kernel("pool", PoolKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY, PoolKernel::new),
            kernel("global-pool", GlobalPoolKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY,
                    GlobalPoolKernel::new),
            kernel("squeeze-excitation", SqueezeExcitationKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY,
                    SqueezeExcitationKernel::new),
            kernel("elementwise", ElementwiseKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY,
                    ElementwiseKernel::new),
            kernel("concat", ConcatKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY, ConcatKernel::new),
            kernel("softmax", SoftmaxKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY, SoftmaxKernel::new),
            kernel("copy", CopyKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY, CopyKernel::new));

    @Override
    public String name() {
        return PROVIDER;
    }

    @Override
    public String backend() {
        return OpenClBackend.ID;
    }

    @Override
    public int contractVersion() {
        return ClKernel.CONTRACT_VERSION;
    }

    @Override
    public List<KernelFactory<?>> kernels() {
        return KERNELS;
    }

    private static KernelFactory<ClKernel> kernel(String name, Function<BoundNode, String> unsupportedReason,
                                                  int priority, Function<BoundNode, ClKernel> create) {
        return kernel(name, unsupportedReason, priority, (node, context) -> create.apply(node));
    }

    private static KernelFactory<ClKernel> kernel(String name, Function<BoundNode, String> unsupportedReason,
                                                  int priority, BiFunction<BoundNode, CompileContext, ClKernel> create) {
        return KernelFactory.of(ClKernel.class, name, node -> {
            String reason = unsupportedReason.apply(node);
            return reason == null ? KernelSupport.withPriority(priority) : KernelSupport.no(reason);
        }, create);
    }
}
