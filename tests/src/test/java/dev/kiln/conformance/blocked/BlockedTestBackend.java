package dev.kiln.conformance.blocked;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Conv;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Device;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A backend that exists to test the engine, not to be fast: it runs only Conv (any groups,
 * with or without bias, with any post-ops), Relu and Add of two same-shape 4-D tensors, and
 * keeps activations in its own buffers in the NCHW16c layout, converting from and to the host's
 * NCHW only at partition boundaries. It proves that partitioning, fallback and the SPI carry a
 * backend whose memory and layout differ from the host's, and it counts its boundary crossings
 * so that tests can see where conversions happen.
 */
public final class BlockedTestBackend implements Backend {
    public static final String ID = "test-blocked";

    private final AtomicLong uploads = new AtomicLong();
    private final AtomicLong downloads = new AtomicLong();

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String description() {
        return "test-only NCHW16c blocked backend (Conv, Relu, Add)";
    }

    /** Above the reference backend's 0, so that {@code auto} would choose it for a graph it covers. */
    @Override
    public int rank() {
        return 50;
    }

    @Override
    public Support supports(BoundNode node, CompileContext context) {
        return switch (node.op()) {
            case Conv c -> {
                if (!node.isConstant(1)) {
                    yield Support.no("convolution weights must be constants (they are packed at compile time)");
                }
                if (node.node().hasInput(2) && !node.isConstant(2)) {
                    yield Support.no("a convolution bias must be a constant");
                }
                yield Support.YES;
            }
            case Activation a when a.function().kind() != ActivationFunction.Kind.RELU ->
                    Support.no("the only standalone activation is Relu, not " + a.function());
            case Activation a -> fourDimensional(node.inputShape(0));
            case Binary b when b.kind() != Binary.Kind.ADD -> Support.no("the only binary op is Add");
            case Binary b -> node.inputShape(0).equals(node.inputShape(1)) ? fourDimensional(node.inputShape(0))
                    : Support.no("Add needs two operands of the same shape (no broadcasting), got "
                            + node.inputShape(0) + " and " + node.inputShape(1));
            default -> Support.no(node.op().type() + " is not among its ops (Conv, Relu, Add)");
        };
    }

    private static Support fourDimensional(Shape shape) {
        return shape.rank() == 4 ? Support.YES : Support.no("only 4-D NCHW tensors, got " + shape);
    }

    @Override
    public CompiledPartition compile(Partition partition, CompileContext context) {
        return new BlockedPartition(partition, uploads, downloads);
    }

    /** Host tensors converted into the blocked layout so far, by every partition of this instance. */
    public long uploads() {
        return uploads.get();
    }

    /** Blocked buffers converted back into host tensors so far. */
    public long downloads() {
        return downloads.get();
    }
}
