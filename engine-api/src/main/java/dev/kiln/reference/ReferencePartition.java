package dev.kiln.reference;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.runtime.MemoryPlan;
import dev.kiln.runtime.MemoryPlanner;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Workspace;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A partition on the reference backend: every value gets a slot holding a float array. Constants
 * are copied to the heap once, here, and shared by all workspaces; each workspace owns the
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

    ReferencePartition(Partition partition) {
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
                constants[i] = c.toFloatArray();
            }
        });
        memoryPlan = MemoryPlanner.plan(partition.nodes(), partition.inputs(), partition.outputs(),
                partition.constants().keySet(), MemoryPlanner.ELEMENTWISE);
        bufferOfSlot = new int[slots.size()];
        slots.forEach((name, i) -> bufferOfSlot[i] = constants[i] != null ? -1 : memoryPlan.bufferOf().get(name));
        steps = partition.nodes().stream()
                .map(n -> new Step(n, ReferenceKernels.forOp(n.op()), indices(n.node().inputs()),
                        indices(n.node().outputs())))
                .toList();
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
                step.kernel.execute(step.node, stepInputs[s], stepOutputs[s]);
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
