package dev.kiln.opencl;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.spi.memory.HeapValueSlots;
import dev.kiln.spi.memory.MemoryPlan;
import dev.kiln.spi.memory.MemoryPlanner;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.KernelRegistry;
import dev.kiln.spi.NodeKernel;
import dev.kiln.spi.Partition;
import dev.kiln.spi.ProgramBuild;
import dev.kiln.spi.Workspace;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A partition on one OpenCL device: the best registered {@link ClKernel} per node, its
 * constants uploaded to device buffers once per compiled model (shared by every workspace and
 * every batch size), and a memory plan of dense NCHW device buffers for the values in between.
 * Data crosses to and from the host only in {@link Workspace#upload} and
 * {@link Workspace#download}.
 */
final class ClPartition implements CompiledPartition {
    private final OpenClContext device;
    private final ProgramBuild programBuild;
    private final HeapValueSlots slots;
    private final DeviceBuffer[] constants;
    private final MemoryPlan memoryPlan;
    private final List<Step> steps = new ArrayList<>();
    private final List<NodeKernel> kernels = new ArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();

    record Step(BoundNode node, ClKernel kernel, int[] inputs, int[] outputs) {
    }

    ClPartition(Partition partition, CompileContext context, OpenClContext device, ProgramBuild programBuild) {
        this.device = device;
        this.programBuild = programBuild;
        this.slots = new HeapValueSlots(partition);
        this.constants = new DeviceBuffer[slots.count()];
        for (int i = 0; i < slots.count(); i++) {
            Tensor c = partition.constants().get(slots.name(i));
            if (c != null) {
                // The key names the device: a model compiled for two devices keeps a copy on each.
                constants[i] = context.weights().get(OpenClBackend.ID + ":" + device.device().id() + ":"
                        + slots.name(i), () -> device.upload(c.toFloatArray()), DeviceBuffer::bytes);
            }
        }
        Map<BoundNode, ClKernel> kernelOf = new HashMap<>();
        for (BoundNode n : partition.nodes()) {
            StringBuilder refusals = new StringBuilder();
            KernelRegistry.Choice<ClKernel> choice = context.kernels().best(OpenClBackend.ID, ClKernel.class, n,
                    refusals);
            if (choice == null) {
                throw new IllegalArgumentException("no opencl kernel for " + n.node().describe() + ": " + refusals);
            }
            ClKernel kernel = choice.create(n, context);
            kernelOf.put(n, kernel);
            kernels.add(new NodeKernel(n.name(), choice.kernel(), choice.provider(), kernel.algorithm()));
            steps.add(new Step(n, kernel, slots.slots(n.node().inputs()), slots.slots(n.node().outputs())));
        }
        memoryPlan = MemoryPlanner.plan(partition.nodes(), partition.inputs(), partition.outputs(),
                partition.constants().keySet(), (n, input) -> kernelOf.get(n).inPlaceInput() == input,
                MemoryPlanner::denseBytes);
    }

    @Override
    public Workspace newWorkspace() {
        if (closed.get()) {
            throw new IllegalStateException("this OpenCL partition is closed");
        }
        return new ClWorkspace(this);
    }

    OpenClContext device() {
        return device;
    }

    HeapValueSlots slots() {
        return slots;
    }

    DeviceBuffer constant(int slot) {
        return constants[slot];
    }

    MemoryPlan memoryPlan() {
        return memoryPlan;
    }

    List<Step> steps() {
        return steps;
    }

    Shape shape(int slot) {
        return slots.shape(slot);
    }

    boolean isClosed() {
        return closed.get();
    }

    /** The device computes; the host only enqueues and waits. */
    @Override
    public boolean computesOnHostThreads() {
        return false;
    }

    @Override
    public String describe() {
        return "OpenCL kernels on " + device.device().name() + " (" + device.tiles() + "; program "
                + programBuild.describe() + "), " + steps.size() + " nodes, " + memoryPlan.bufferCount()
                + " device buffers of " + memoryPlan.plannedBytes() + " bytes per workspace";
    }

    @Override
    public Optional<ProgramBuild> programBuild() {
        return Optional.of(programBuild);
    }

    @Override
    public List<NodeKernel> kernels() {
        return kernels;
    }

    @Override
    public void close() {
        // Constants belong to the compiled model's weight store, which closes them; workspaces
        // are closed by the runtime before this.
        closed.set(true);
    }
}
