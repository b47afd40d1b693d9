package dev.kiln.reference;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.runtime.MemoryPlan;
import dev.kiln.runtime.MemoryPlanner;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.NodeKernel;
import dev.kiln.spi.Partition;
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
    private final Partition partition;
    private final Map<String, Integer> slots = new HashMap<>();
    private final float[][] constants;
    private final Shape[] shapes;
    private final int[] bufferOfSlot;
    private final MemoryPlan memoryPlan;
    private final List<Step> steps;

    private record Step(BoundNode node, ReferenceKernel kernel, int[] inputs, int[] outputs) {
    }

    private final List<NodeKernel> kernels = new ArrayList<>();

    ReferencePartition(Partition partition, CompileContext context) {
        this.partition = partition;
        for (BoundNode n : partition.nodes()) {
            n.node().inputs().forEach(this::slot);
            n.node().outputs().forEach(this::slot);
        }
        partition.inputs().forEach(this::slot);
        partition.outputs().forEach(this::slot);
        constants = new float[slots.size()][];
        shapes = new Shape[slots.size()];
        slots.forEach((name, i) -> {
            shapes[i] = partition.shape(name);
            Tensor c = partition.constants().get(name);
            if (c != null) {
                // Once per compiled model: a plan for another batch size shares these arrays.
                constants[i] = context.weights().get(ReferenceBackend.ID + ":" + name, c::toFloatArray,
                        a -> (long) a.length * Float.BYTES);
            }
        });
        Map<BoundNode, ReferenceKernel> kernelOf = new HashMap<>();
        List<Step> steps = new ArrayList<>();
        for (BoundNode n : partition.nodes()) {
            var choice = context.kernels().best(ReferenceBackend.ID, ReferenceKernel.class, n, null);
            if (choice == null) {
                throw new IllegalArgumentException("no reference kernel for " + n.node().describe());
            }
            ReferenceKernel kernel = choice.factory().create(n, context);
            kernelOf.put(n, kernel);
            kernels.add(new NodeKernel(n.name(), choice.kernel(), choice.provider(), ""));
            steps.add(new Step(n, kernel, indices(n.node().inputs()), indices(n.node().outputs())));
        }
        this.steps = List.copyOf(steps);
        memoryPlan = MemoryPlanner.plan(partition.nodes(), partition.inputs(), partition.outputs(),
                partition.constants().keySet(), (n, input) -> kernelOf.get(n).inPlaceInput() == input);
        bufferOfSlot = new int[slots.size()];
        slots.forEach((name, i) -> bufferOfSlot[i] = constants[i] != null ? -1 : memoryPlan.bufferOf().get(name));
    }

    private void slot(String name) {
        if (!name.isEmpty()) {
            slots.putIfAbsent(name, slots.size());
        }
    }

    private int[] indices(List<String> names) {
        return names.stream().mapToInt(n -> n.isEmpty() ? -1 : slots.get(n)).toArray();
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
    public void close() {
        // Heap arrays only; the garbage collector frees them.
    }

    private final class ReferenceWorkspace implements Workspace {
        private final float[][] values = new float[constants.length][];
        private final float[][][] stepInputs = new float[steps.size()][][];
        private final float[][][] stepOutputs = new float[steps.size()][][];

        ReferenceWorkspace() {
            float[][] buffers = new float[memoryPlan.bufferCount()][];
            for (int b = 0; b < buffers.length; b++) {
                buffers[b] = new float[Math.toIntExact(memoryPlan.bufferBytes().get(b) / Float.BYTES)];
            }
            for (int i = 0; i < values.length; i++) {
                values[i] = constants[i] != null ? constants[i] : buffers[bufferOfSlot[i]];
            }
            for (int s = 0; s < steps.size(); s++) {
                stepInputs[s] = gather(steps.get(s).inputs);
                stepOutputs[s] = gather(steps.get(s).outputs);
            }
        }

        @Override
        public void upload(int index, Tensor host) {
            host.copyTo(0, values[slots.get(partition.inputs().get(index))], 0, host.shape().elementCountInt());
        }

        @Override
        public void execute() {
            for (int s = 0; s < steps.size(); s++) {
                Step step = steps.get(s);
                step.kernel.execute(stepInputs[s], stepOutputs[s]);
            }
        }

        private float[][] gather(int[] indices) {
            float[][] arrays = new float[indices.length][];
            for (int i = 0; i < indices.length; i++) {
                arrays[i] = indices[i] < 0 ? null : values[indices[i]];
            }
            return arrays;
        }

        @Override
        public void download(int index, Tensor host) {
            host.copyFrom(values[slots.get(partition.outputs().get(index))], 0, 0, host.shape().elementCountInt());
        }

        @Override
        public void close() {
        }
    }
}
