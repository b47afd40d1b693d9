package dev.kiln.cpusimd.provider;

import dev.kiln.cpusimd.CpuSimdBackend;
import dev.kiln.cpusimd.DepthwiseConvKernel;
import dev.kiln.cpusimd.DepthwiseRows;
import dev.kiln.cpusimd.FusedForm;
import dev.kiln.cpusimd.SimdKernel;
import dev.kiln.graph.ops.Conv;
import dev.kiln.spi.HostThreads;
import dev.kiln.spi.KernelFactory;
import dev.kiln.spi.KernelProvider;
import dev.kiln.spi.KernelSupport;

import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Depthwise kernels a provider outside the cpu-simd package ships, so that they reach the backend
 * through its public contract only: each wraps cpu-simd's own {@link DepthwiseConvKernel} (the
 * arithmetic is not what is tested) and differs in what it declares.
 */
public final class ProviderDepthwiseKernels {
    private ProviderDepthwiseKernels() {
    }

    /** A provider of one depthwise kernel for cpu-simd, bidding above the backend's own, made by {@code wrap}. */
    public static KernelProvider provider(Function<DepthwiseConvKernel, SimdKernel> wrap) {
        KernelFactory<SimdKernel> depthwise = KernelFactory.of(SimdKernel.class, "provider-depthwise",
                node -> node.op() instanceof Conv && DepthwiseConvKernel.unsupportedReason(node) == null
                        ? KernelSupport.withPriority(KernelSupport.DEFAULT_PRIORITY + 50)
                        : KernelSupport.no("not a depthwise convolution"),
                (node, context) -> wrap.apply(new DepthwiseConvKernel(node, context.weights())));
        return KernelProvider.of("test-provider", CpuSimdBackend.ID, SimdKernel.CONTRACT_VERSION, List.of(depthwise));
    }

    /** Takes the rows form: declares it (where the wrapped kernel can) and answers through {@link DepthwiseRows}. */
    public static final class Rows implements DepthwiseRows {
        private final DepthwiseConvKernel inner;

        public Rows(DepthwiseConvKernel inner) {
            this.inner = inner;
        }

        @Override
        public String algorithm() {
            return "provider depthwise (rows)";
        }

        @Override
        public Set<FusedForm> fusedForms() {
            return inner.fusedForms().contains(FusedForm.DEPTHWISE_ROWS) ? Set.of(FusedForm.DEPTHWISE_ROWS) : Set.of();
        }

        @Override
        public int blocks() {
            return inner.blocks();
        }

        @Override
        public int outputRows() {
            return inner.outputRows();
        }

        @Override
        public int firstInputRow(int oy) {
            return inner.firstInputRow(oy);
        }

        @Override
        public int endInputRow(int oy) {
            return inner.endInputRow(oy);
        }

        @Override
        public void computeRows(float[] x, int inPlane, float[] y, float[] residual, int plane, int rowStart,
                                int rowEnd) {
            inner.computeRows(x, inPlane, y, residual, plane, rowStart, rowEnd);
        }

        @Override
        public void execute(float[][] inputs, float[][] outputs, float[] scratch, HostThreads threads) {
            inner.execute(inputs, outputs, scratch, threads);
        }
    }

    /** Declares no fused form ({@code claimsRows} false), or declares the rows form without implementing its interface. */
    public static final class Plain implements SimdKernel {
        private final DepthwiseConvKernel inner;
        private final boolean claimsRows;

        public Plain(DepthwiseConvKernel inner, boolean claimsRows) {
            this.inner = inner;
            this.claimsRows = claimsRows;
        }

        @Override
        public String algorithm() {
            return "provider depthwise (plain)";
        }

        @Override
        public Set<FusedForm> fusedForms() {
            return claimsRows ? Set.of(FusedForm.DEPTHWISE_ROWS) : Set.of();
        }

        @Override
        public void execute(float[][] inputs, float[][] outputs, float[] scratch, HostThreads threads) {
            inner.execute(inputs, outputs, scratch, threads);
        }
    }
}
