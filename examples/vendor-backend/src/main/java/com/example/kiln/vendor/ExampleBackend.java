package com.example.kiln.vendor;

import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.ProvidedOp;
import dev.kiln.graph.ops.Reshape;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;

/**
 * A partial backend, as a vendor would start one: it runs activations, elementwise binary ops on
 * operands of the output's shape, global pooling, the shape-only Flatten and Reshape, and the
 * vendor's own op {@code com.example.GELU} ({@link GeluOp}, which it claims by domain and name),
 * and leaves every other node to Kiln's fallback. Registered by its
 * {@code META-INF/services/dev.kiln.spi.Backend} line; the three methods below are all the SPI
 * asks for.
 */
public final class ExampleBackend implements Backend {
    public static final String ID = "example-vendor";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String description() {
        return "example vendor backend (a few ops on the host, the rest falls back)";
    }

    /** Below the built-in backends: chosen only by name (--backend example-vendor). */
    @Override
    public int rank() {
        return 1;
    }

    @Override
    public Support supports(BoundNode node, CompileContext context) {
        return switch (node.op()) {
            case Activation a -> Support.YES;
            case Binary b -> node.inputShape(0).equals(node.outputShape())
                    && node.inputShape(1).equals(node.outputShape()) ? Support.YES
                    : Support.no("broadcasting is not implemented");
            case GlobalPool g -> node.inputShape(0).rank() == 4 ? Support.YES : Support.no("rank 4 only");
            case Flatten f -> Support.YES;
            case Reshape r -> Support.YES;
            case ProvidedOp p when p.domain().equals(GeluOp.DOMAIN) && p.name().equals(GeluOp.NAME) -> Support.YES;
            default -> Support.no(node.op().type() + " is not implemented");
        };
    }

    @Override
    public CompiledPartition compile(Partition partition, CompileContext context) {
        return new ExamplePartition(partition);
    }
}
