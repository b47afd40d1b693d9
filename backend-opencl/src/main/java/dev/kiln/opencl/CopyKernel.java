package dev.kiln.opencl;

import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.Passthrough;
import dev.kiln.graph.ops.Reshape;
import dev.kiln.spi.BoundNode;
import org.jocl.CL;
import org.jocl.cl_mem;

import java.util.List;

/**
 * Ops that change only the shape (Flatten, Reshape, Identity, Dropout): dense NCHW data is the
 * same bytes either way, so when the output shares its input's buffer there is nothing to do,
 * and otherwise one buffer copy on the queue.
 */
final class CopyKernel implements ClKernel {
    private final BoundNode node;

    CopyKernel(BoundNode node) {
        this.node = node;
    }

    static String unsupportedReason(BoundNode node) {
        return node.op() instanceof Flatten || node.op() instanceof Reshape || node.op() instanceof Passthrough ? null
                : "not a Flatten, Reshape, Identity or Dropout";
    }

    @Override
    public String algorithm() {
        return "same buffer when the planner lets it, else a buffer copy";
    }

    @Override
    public int inPlaceInput() {
        return 0;
    }

    @Override
    public List<Launch> bind(Binding b) {
        cl_mem in = b.input(0);
        cl_mem out = b.output(0);
        if (in == out) {
            return List.of();
        }
        long bytes = node.outputShape().elementCount() * Float.BYTES;
        return bytes == 0 ? List.of() : List.of(queue -> OpenClException.check(
                CL.clEnqueueCopyBuffer(queue, in, out, 0, 0, bytes, 0, null, null), "clEnqueueCopyBuffer",
                bytes + " bytes for " + node.name()));
    }
}
