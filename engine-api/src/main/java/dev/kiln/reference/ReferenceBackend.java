package dev.kiln.reference;

import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;

/**
 * The oracle: every op, in plain Java on heap arrays, on the host CPU. Always available, ranked
 * lowest, so {@code auto} prefers any faster backend and it is the last fallback.
 */
public final class ReferenceBackend implements Backend {
    public static final String ID = "reference";

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
        return "plain Java reference kernels (the oracle for every other backend)";
    }

    @Override
    public Support supports(BoundNode node, CompileContext context) {
        for (var shape : node.inputShapes()) {
            if (shape != null && shape.elementCount() > Integer.MAX_VALUE - 8) {
                return Support.no("input " + shape + " is larger than a Java array");
            }
        }
        if (node.op() instanceof dev.kiln.graph.ops.ProvidedOp p && !p.hasReferenceKernel()) {
            return Support.no(ReferenceKernels.noReferenceKernel(p));
        }
        StringBuilder refusals = new StringBuilder();
        return context.kernels().best(ID, ReferenceKernel.class, node, refusals) != null ? Support.YES
                : Support.no("no reference kernel for " + node.op().type()
                        + (refusals.isEmpty() ? "" : " (" + refusals + ")"));
    }

    @Override
    public CompiledPartition compile(Partition partition, CompileContext context) {
        return new ReferencePartition(partition, context);
    }
}
