package dev.kiln.onednn;

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
 * oneDNN primitives called through FFM downcalls: convolutions, inner products, pooling and the
 * rest with their epilogues as post-ops, in the blocked layouts oneDNN picks. Its kernels come
 * through the kernel registry ({@link OneDnnKernels} is its own provider), one class per form,
 * each lowering its node into steps of the partition's program ({@link OneDnnKernel}). The library comes
 * from the {@code org.bytedeco:dnnl} jar on the class path (or {@code KILN_ONEDNN_LIBRARY}, or the
 * system); nothing is loaded until the engine asks whether the backend is available.
 *
 * <p>Ranked below {@code cpu-simd}: Kiln's default stays the pure-Java backend, and oneDNN is
 * what a user picks by name ({@code --backend onednn}) when the native library is welcome.
 */
public final class OneDnnBackend implements Backend {
    public static final String ID = "onednn";

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
        return "oneDNN primitives through the foreign-function API";
    }

    @Override
    public int rank() {
        return 150;
    }

    @Override
    public Availability availability() {
        OneDnnRuntime.Result result = OneDnnRuntime.get();
        return result.runtime() != null ? Availability.AVAILABLE : Availability.unavailable(result.failure());
    }

    @Override
    public List<Device> devices() {
        OneDnnRuntime.Result result = OneDnnRuntime.get();
        if (result.runtime() == null) {
            return List.of();
        }
        return List.of(new Device("cpu", "oneDNN " + result.runtime().dnnl.version() + " on the host CPU; "
                + result.runtime().kernelsStatus, Device.Kind.CPU,
                Device.HOST_CPU.globalMemoryBytes(), Device.HOST_CPU.computeUnits()));
    }

    @Override
    public Support supports(BoundNode node, CompileContext context) {
        // The registry picks the kernel; a refusal names the general form's reason for the op.
        return context.kernels().best(ID, OneDnnKernel.class, node, null) != null ? Support.YES
                : Support.no(OneDnnKernels.refusal(node));
    }

    @Override
    public CompiledPartition compile(Partition partition, CompileContext context) {
        OneDnnRuntime runtime = OneDnnRuntime.get().require();
        // Preparing weights executes reorders, which start parallel regions: on the oneDNN thread too.
        return OneDnnThread.forCount(context.threads().parallelism())
                .call(() -> new OneDnnPartition(runtime, partition, context));
    }
}
