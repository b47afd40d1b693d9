package dev.kiln.cpusimd;

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
 * Kernels written with the Vector API ({@code jdk.incubator.vector}) on the host CPU. Not
 * implemented yet: it registers itself so that the engine lists it and explains why it does not
 * run, and it already checks the one thing a user must do to enable it later, adding the
 * incubator module. Like Lucene's vectorization provider, it will only be used when that module
 * is readable, and the reference backend runs otherwise.
 */
public final class CpuSimdBackend implements Backend {
    public static final String ID = "cpu-simd";
    static final String VECTOR_MODULE = "jdk.incubator.vector";

    @Override
    public String id() {
        return ID;
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
        return Availability.unavailable(reason(ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent()));
    }

    /** Why the backend cannot run, given whether the Vector API module is readable in this JVM. */
    static String reason(boolean vectorModulePresent) {
        String notImplemented = "cpu-simd backend is not implemented yet: its Vector API kernels are still to be written";
        return vectorModulePresent
                ? notImplemented + " (module " + VECTOR_MODULE + " is readable here, so nothing else will be needed)"
                : notImplemented + "; it will also need module " + VECTOR_MODULE
                        + ", which this JVM lacks: run with --add-modules " + VECTOR_MODULE;
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
        throw new UnsupportedOperationException("the cpu-simd backend is not implemented yet and cannot compile "
                + partition.nodes().size() + " nodes of partition " + partition.index());
    }
}
