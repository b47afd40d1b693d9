package dev.kiln.cli;

import dev.kiln.spi.CompileContext;
import dev.kiln.spi.Availability;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Device;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;

/**
 * A backend that is never available, registered through META-INF/services in the CLI tests
 * only, so that the report of an unavailable backend is tested whatever this machine has.
 */
public final class NeverAvailableBackend implements Backend {
    static final String ID = "test-never-available";
    static final String REASON = "it exists only in the CLI tests and never runs";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public Availability availability() {
        return Availability.unavailable(REASON);
    }

    @Override
    public Support supports(BoundNode node, CompileContext context) {
        return Support.no(REASON);
    }

    @Override
    public CompiledPartition compile(Partition partition, CompileContext context) {
        throw new UnsupportedOperationException(REASON);
    }
}
