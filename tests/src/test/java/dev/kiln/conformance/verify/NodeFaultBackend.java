package dev.kiln.conformance.verify;

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

/**
 * The reference backend under another id, with one node's kernel made wrong: the plain kernel
 * runs, then its output is scaled by {@code 1 + error}. The faulty kernel is a higher-priority
 * {@link KernelProvider} for that node name only, added to this backend's compile context, so the
 * real reference backend of the same engine stays right. With {@code error} 0 it is an honest
 * backend that runs every node through the wrapper.
 */
final class NodeFaultBackend implements Backend {
    private final ReferenceBackend delegate = new ReferenceBackend();
    private final String id;
    private final String faultyNode;
    private final float error;
    private final boolean hiddenInPartition;

    NodeFaultBackend(String id, String faultyNode, float error) {
        this(id, faultyNode, error, false);
    }

    /**
     * With {@code hiddenInPartition}, the fault strikes only where the node's output stays inside
     * its partition: a stand-in for a buffer-reuse bug that capturing every value would hide.
     */
    NodeFaultBackend(String id, String faultyNode, float error, boolean hiddenInPartition) {
        this.id = id;
        this.faultyNode = faultyNode;
        this.error = error;
        this.hiddenInPartition = hiddenInPartition;
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
        boolean leaves = partition.nodes().stream().anyMatch(n -> n.node().name().equals(faultyNode)
                && partition.outputs().contains(n.node().output()));
        float applied = hiddenInPartition && leaves ? 0 : error;
        CompileContext faulty = new CompileContext(context.options(), context.device(), context.threads(),
                plain.with(faultyKernel(plain, applied)), context.weights());
        return delegate.compile(partition, faulty);
    }

    /** The faulty kernel for the one node, as a provider; {@code plain} gives the right result to spoil by {@code error}. */
    private KernelProvider faultyKernel(KernelRegistry plain, float error) {
        return KernelProvider.of("injected-fault", ReferenceBackend.ID, ReferenceKernel.CONTRACT_VERSION,
                List.of(KernelFactory.of(ReferenceKernel.class, "wrong-" + faultyNode,
                        node -> node.node().name().equals(faultyNode) ? KernelSupport.withPriority(1_000)
                                : KernelSupport.no("not node " + faultyNode),
                        (node, context) -> {
                            ReferenceKernel right = plain.best(ReferenceBackend.ID, ReferenceKernel.class, node, null)
                                    .factory().create(node, context);
                            int n = node.outputShape().elementCountInt();
                            return (in, out) -> {
                                right.execute(in, out);
                                for (int i = 0; i < n; i++) {
                                    out[0][i] *= 1 + error;
                                }
                            };
                        })));
    }
}
