package dev.kiln.reference;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.spi.memory.HeapValueSlots;
import dev.kiln.spi.memory.MemoryPlan;
import dev.kiln.spi.memory.MemoryPlanner;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.NodeKernel;
import dev.kiln.spi.NodeTimes;
import dev.kiln.spi.Partition;
import dev.kiln.spi.RunCheckpoint;
import dev.kiln.spi.Workspace;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A partition on the reference backend: the best registered kernel per node (its own, or a
 * vendor's that bids higher), and every value gets a slot holding a float array. Constants are
 * copied to the heap here and shared by all workspaces; each workspace owns the
 * activation buffers of the memory plan, which values not alive at the same time share.
 */
final class ReferencePartition implements CompiledPartition {
    private final HeapValueSlots slots;
    private final float[][] constants;
    private final MemoryPlan memoryPlan;
    private final List<Step> steps = new ArrayList<>();
    private final List<NodeKernel> kernels = new ArrayList<>();

    private record Step(ReferenceKernel kernel, int[] inputs, int[] outputs) {
    }

    ReferencePartition(Partition partition, CompileContext context) {
        slots = new HeapValueSlots(partition);
        constants = new float[slots.count()][];
        for (int i = 0; i < slots.count(); i++) {
            String name = slots.name(i);
            Tensor c = partition.constants().get(name);
            if (c != null) {
                // Once per compiled model: a plan for another batch size shares these arrays.
                constants[i] = context.weights().get(ReferenceBackend.ID + ":" + name, c::toFloatArray,
                        a -> (long) a.length * Float.BYTES);
            }
        }
        Map<BoundNode, ReferenceKernel> kernelOf = new HashMap<>();
        for (BoundNode n : partition.nodes()) {
            var choice = context.kernels().best(ReferenceBackend.ID, ReferenceKernel.class, n, null);
            if (choice == null) {
                throw new IllegalArgumentException("no reference kernel for " + n.node().describe());
            }
            ReferenceKernel kernel = choice.create(n, context);
            kernelOf.put(n, kernel);
            kernels.add(new NodeKernel(n.name(), choice.kernel(), choice.provider(), ""));
            steps.add(new Step(kernel, slots.slots(n.node().inputs()), slots.slots(n.node().outputs())));
        }
        memoryPlan = MemoryPlanner.plan(partition.nodes(), partition.inputs(), partition.outputs(),
                partition.constants().keySet(), (n, input) -> kernelOf.get(n).inPlaceInput() == input);
    }

    @Override
    public Workspace newWorkspace() {
        return new ReferenceWorkspace();
    }

    @Override
    public String describe() {
        return "reference kernels on heap float arrays, " + steps.size() + " nodes, " + memoryPlan.bufferCount()
                + " activation buffers of " + memoryPlan.plannedBytes() + " bytes";
    }

    @Override
    public List<NodeKernel> kernels() {
        return kernels;
    }

    @Override
    public boolean handsOverResident() {
        return true;
    }

    @Override
    public void close() {
        // Heap arrays only; the garbage collector frees them.
    }

    /**
     * A value handed to another reference partition: the producing workspace's own array, valid
     * until that workspace runs again (after every reader of the run), so one array copy replaces
     * a download and an upload.
     */
    private record ResidentValue(Shape shape, float[] buffer) {
    }

    private final class ReferenceWorkspace implements Workspace {
        private final float[][] values = slots.allocate(memoryPlan, constants);
        private final float[][][] stepInputs = new float[steps.size()][][];
        private final float[][][] stepOutputs = new float[steps.size()][][];

        ReferenceWorkspace() {
            for (int s = 0; s < steps.size(); s++) {
                stepInputs[s] = HeapValueSlots.gather(values, steps.get(s).inputs);
                stepOutputs[s] = HeapValueSlots.gather(values, steps.get(s).outputs);
            }
        }

        @Override
        public void upload(int index, Tensor host) {
            host.copyTo(0, values[slots.inputSlot(index)], 0, host.shape().elementCountInt());
        }

        @Override
        public boolean importResident(int index, Object value) {
            int slot = slots.inputSlot(index);
            if (!(value instanceof ResidentValue(Shape shape, float[] buffer)) || !shape.equals(slots.shape(slot))) {
                return false;
            }
            // A copy, not the producer's array itself: an in-place kernel here may overwrite its input.
            System.arraycopy(buffer, 0, values[slot], 0, shape.elementCountInt());
            return true;
        }

        @Override
        public Object exportResident(int index) {
            int slot = slots.outputSlot(index);
            return new ResidentValue(slots.shape(slot), values[slot]);
        }

        @Override
        public void execute() {
            for (int s = 0; s < steps.size(); s++) {
                RunCheckpoint.check(); // the whole graph is often one partition here: stop between nodes
                steps.get(s).kernel.execute(stepInputs[s], stepOutputs[s]);
            }
        }

        @Override
        public boolean executeTimed(NodeTimes times) {
            for (int s = 0; s < steps.size(); s++) {
                RunCheckpoint.check();
                long started = System.nanoTime();
                steps.get(s).kernel.execute(stepInputs[s], stepOutputs[s]);
                times.record(s, System.nanoTime() - started);
            }
            return true;
        }

        @Override
        public void download(int index, Tensor host) {
            host.copyFrom(values[slots.outputSlot(index)], 0, 0, host.shape().elementCountInt());
        }

        @Override
        public void close() {
        }
    }
}
