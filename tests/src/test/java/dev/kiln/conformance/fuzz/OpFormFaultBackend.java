package dev.kiln.conformance.fuzz;

import dev.kiln.reference.ReferenceBackend;
import dev.kiln.reference.ReferenceKernel;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.KernelFactory;
import dev.kiln.spi.KernelProvider;
import dev.kiln.spi.KernelRegistry;
import dev.kiln.spi.KernelSupport;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;

import java.util.List;
import java.util.function.Predicate;

/**
 * The reference backend under another id, wrong in one op form only: for the nodes the predicate
 * picks, the plain kernel runs and then the last output column of every row is scaled by
 * {@code 1 + error}, the kind of edge-handling slip an optimized kernel makes at an odd width.
 * Every other node runs right, so only a graph that has the form can find it.
 */
final class OpFormFaultBackend implements Backend {
    private final ReferenceBackend delegate = new ReferenceBackend();
    private final String id;
    private final Predicate<BoundNode> faulty;
    private final float error;

    OpFormFaultBackend(String id, Predicate<BoundNode> faulty, float error) {
        this.id = id;
        this.faulty = faulty;
        this.error = error;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public int rank() {
        return 10;
    }

    @Override
    public Support supports(BoundNode node, CompileContext context) {
        return delegate.supports(node, context);
    }

    @Override
    public CompiledPartition compile(Partition partition, CompileContext context) {
        KernelRegistry plain = context.kernels();
        CompileContext wrong = new CompileContext(context.options(), context.device(), context.threads(),
                plain.with(faultyKernels(plain)), context.weights());
        return delegate.compile(partition, wrong);
    }

    /** The faulty kernel, above every other for the form, as a provider; {@code plain} gives the right result to spoil. */
    private KernelProvider faultyKernels(KernelRegistry plain) {
        return KernelProvider.of("injected-fault", ReferenceBackend.ID, ReferenceKernel.CONTRACT_VERSION,
                List.of(KernelFactory.of(ReferenceKernel.class, "wrong-last-column",
                        node -> faulty.test(node) ? KernelSupport.withPriority(1_000)
                                : KernelSupport.no("not the form"),
                        (node, context) -> {
                            ReferenceKernel right = plain.best(ReferenceBackend.ID, ReferenceKernel.class, node, null)
                                    .factory().create(node, context);
                            int n = node.outputShape().elementCountInt();
                            int width = node.outputShape().dim(node.outputShape().rank() - 1);
                            return (in, out) -> {
                                right.execute(in, out);
                                for (int i = width - 1; i < n; i += width) {
                                    out[0][i] *= 1 + error;
                                }
                            };
                        })));
    }
}
