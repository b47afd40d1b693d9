package dev.kiln.onednn;

import dev.kiln.spi.CompileContext;
import dev.kiln.spi.Availability;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Device;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;

import java.util.List;

/**
 * oneDNN primitives called through FFM downcalls. Not implemented yet: it registers itself so
 * that the engine lists it and explains why it does not run. It loads no native library until
 * the binding exists, so its presence on the class path costs nothing.
 */
public final class OneDnnBackend implements Backend {
    public static final String ID = "onednn";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String description() {
        return "oneDNN primitives through the foreign-function API";
    }

    @Override
    public int rank() {
        return 300;
    }

    @Override
    public Availability availability() {
        return Availability.unavailable(reason(OneDnnBackend.class.getModule().isNativeAccessEnabled()));
    }

    /** Why the backend cannot run, given whether this module may make FFM downcalls without warnings. */
    static String reason(boolean nativeAccessEnabled) {
        String notImplemented = "onednn backend is not implemented yet: the FFM binding to oneDNN is still to be"
                + " written, and no oneDNN library is loaded";
        return nativeAccessEnabled ? notImplemented
                : notImplemented + "; it will also need native access: run with --enable-native-access=ALL-UNNAMED";
    }

    @Override
    public List<Device> devices() {
        return List.of();
    }

    @Override
    public Support supports(BoundNode node, CompileContext context) {
        return Support.no("not implemented");
    }

    @Override
    public CompiledPartition compile(Partition partition, CompileContext context) {
        throw new UnsupportedOperationException("the onednn backend is not implemented yet and cannot compile "
                + partition.nodes().size() + " nodes of partition " + partition.index());
    }
}
