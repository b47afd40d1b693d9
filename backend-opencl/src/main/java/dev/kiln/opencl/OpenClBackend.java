package dev.kiln.opencl;

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
 * OpenCL C kernels on any OpenCL device. Not implemented yet: it registers itself so that the
 * engine lists it and explains why it does not run. It has no OpenCL binding yet, so it does not
 * look for platforms or devices.
 */
public final class OpenClBackend implements Backend {
    public static final String ID = "opencl";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String description() {
        return "OpenCL kernels on any OpenCL device";
    }

    @Override
    public int rank() {
        return 100;
    }

    @Override
    public Availability availability() {
        return Availability.unavailable("opencl backend is not implemented yet: its OpenCL C kernels and the binding"
                + " that drives them are still to be written, so no OpenCL platform or device is probed");
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
        throw new UnsupportedOperationException("the opencl backend is not implemented yet and cannot compile "
                + partition.nodes().size() + " nodes of partition " + partition.index());
    }
}
