package dev.kiln.opencl;

import dev.kiln.spi.Availability;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Device;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;

import java.util.List;

/**
 * OpenCL C kernels on any OpenCL device (GPUs of every vendor, CPU runtimes such as PoCL),
 * driven through JOCL. Platforms and devices are discovered the first time the engine asks
 * whether the backend is available, never before; each device is a Kiln {@link Device} chosen
 * by index or name. Its kernels come through the kernel registry ({@link OpenClKernels} is its
 * own provider).
 */
public final class OpenClBackend implements Backend {
    public static final String ID = "opencl";

    /** Above cpu-simd (200): a GPU does the work of these networks faster than the host's vectors. */
    static final int GPU_RANK = 300;
    /** Below cpu-simd and above reference: a CPU OpenCL runtime computes on the same cores, less well. */
    static final int CPU_RANK = 100;

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
        return "OpenCL C kernels on any OpenCL device (JOCL)";
    }

    /**
     * Follows the first device: a GPU or accelerator ranks above the CPU backends, a CPU device
     * below cpu-simd. Before discovery has run (the engine sorts backends without probing them)
     * it is the CPU rank.
     */
    @Override
    public int rank() {
        if (!OpenClRuntime.probed() || OpenClRuntime.devices().isEmpty()) {
            return CPU_RANK;
        }
        return rankFor(OpenClRuntime.devices().getFirst().kind());
    }

    static int rankFor(Device.Kind kind) {
        return kind == Device.Kind.CPU ? CPU_RANK : GPU_RANK;
    }

    @Override
    public Availability availability() {
        OpenClDiscovery.Result found = OpenClRuntime.discovery();
        return found.found() ? Availability.AVAILABLE : Availability.unavailable(found.problem());
    }

    /** Every device of every platform, GPUs and accelerators first, in the order the platforms list them. */
    @Override
    public List<Device> devices() {
        return OpenClRuntime.devices().stream().map(OpenClDeviceInfo::toDevice).toList();
    }

    @Override
    public Support supports(BoundNode node, CompileContext context) {
        StringBuilder refusals = new StringBuilder();
        return context.kernels().best(ID, ClKernel.class, node, refusals) != null ? Support.YES
                : Support.no(refusals.isEmpty() ? "no opencl kernel for " + node.op().type() : refusals.toString());
    }

    @Override
    public CompiledPartition compile(Partition partition, CompileContext context) {
        OpenClRuntime.Use device = OpenClRuntime.context(context.device());
        return new ClPartition(partition, context, device.context(), device.programBuild());
    }
}
