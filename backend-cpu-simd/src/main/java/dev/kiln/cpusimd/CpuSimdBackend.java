package dev.kiln.cpusimd;

import dev.kiln.spi.Availability;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;

/**
 * Kernels written with the Vector API ({@code jdk.incubator.vector}) on the host CPU, on heap
 * buffers in a blocked layout ({@link BlockedLayout}). Like Lucene's vectorization provider it
 * runs only when the incubator module is readable and the vectors are wide enough to pay off;
 * otherwise it says why and the engine goes on without it. Its kernels come through the kernel
 * registry ({@link SimdKernels} is its own provider), so a vendor may add faster ones.
 */
public final class CpuSimdBackend implements Backend {
    public static final String ID = "cpu-simd";
    static final String VECTOR_MODULE = "jdk.incubator.vector";

    @Override
    public String id() {
        return ID;
    }

    /** Kiln's version, the same from every jar of it (not a manifest's, which differs per packaging). */
    @Override
    public String version() {
        return dev.kiln.KilnVersion.current();
    }

    @Override
    public String description() {
        return "Vector API (SIMD) kernels on the host CPU";
    }

    @Override
    public int rank() {
        return 200;
    }

    @Override
    public Availability availability() {
        if (ModuleLayer.boot().findModule(VECTOR_MODULE).isEmpty()) {
            return Availability.unavailable(reason(false));
        }
        // Only now is it safe to touch classes that use the Vector API.
        int bits = VectorSupport.preferredBits();
        if (bits < 128) {
            return Availability.unavailable("the CPU's preferred vector is " + bits
                    + " bits; cpu-simd needs at least 128 (SSE, AVX, NEON), or it would be slower than plain Java");
        }
        return Availability.AVAILABLE;
    }

    /** Why the backend cannot run without the Vector API module. */
    static String reason(boolean vectorModulePresent) {
        return vectorModulePresent ? "available"
                : "module " + VECTOR_MODULE + " is not readable in this JVM: run it with --add-modules "
                        + VECTOR_MODULE;
    }

    @Override
    public Support supports(BoundNode node, CompileContext context) {
        StringBuilder refusals = new StringBuilder();
        return context.kernels().best(ID, SimdKernel.class, node, refusals) != null ? Support.YES
                : Support.no(refusals.isEmpty() ? "no cpu-simd kernel for " + node.op().type() : refusals.toString());
    }

    @Override
    public CompiledPartition compile(Partition partition, CompileContext context) {
        //KernelWarmup.once(context.kernels());
        return new SimdPartition(partition, context);
    }
}
