package dev.kiln.reference;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Workspace;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A partition on the reference backend: every value gets a slot holding a float array. Constants
 * are copied to the heap once, here, and shared by all workspaces; each workspace owns arrays
 * for the other values.
 */
final class ReferencePartition implements CompiledPartition {
    private final Partition partition;
    private final Map<String, Integer> slots = new HashMap<>();
    private final float[][] constants;
    private final Shape[] shapes;
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
        return "reference kernels on heap float arrays, " + steps.size() + " nodes";
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
            for (int i = 0; i < values.length; i++) {
                values[i] = constants[i] != null ? constants[i] : new float[shapes[i].elementCountInt()];
            }
            for (int s = 0; s < steps.size(); s++) {
                stepInputs[s] = gather(steps.get(s).inputs);
                stepOutputs[s] = gather(steps.get(s).outputs);
            }
        }

        @Override
        public void upload(int index, Tensor host) {
            float[] dst = values[slots.get(partition.inputs().get(index))];
            host.copyTo(0, dst, 0, dst.length);
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
            host.copyFrom(values[slots.get(partition.outputs().get(index))]);
        }

        @Override
        public void close() {
        }
    }
}
