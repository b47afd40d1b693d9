package dev.kiln.cpusimd;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.runtime.MemoryPlan;
import dev.kiln.runtime.MemoryPlanner;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.HostThreads;
import dev.kiln.spi.KernelRegistry;
import dev.kiln.spi.NodeKernel;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Workspace;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A partition on the cpu-simd backend: the best registered {@link SimdKernel} per node, and heap
 * buffers in the backend's layout ({@link BlockedLayout}: NCHWc for rank 4) shared by values
 * that are not alive at the same time. Conversion from and to the host's NCHW happens only in
 * {@link Workspace#upload} and {@link Workspace#download}, at the partition's edges.
 */
final class SimdPartition implements CompiledPartition {
    private final Partition partition;
    private final HostThreads threads;
    private final Map<String, Integer> slots = new HashMap<>();
    private final Shape[] shapes;
    private final int[] bufferOfSlot;
    private final MemoryPlan memoryPlan;
    private final List<Step> steps = new ArrayList<>();
    private final List<NodeKernel> kernels = new ArrayList<>();
    private final long scratchFloats;
    private final int largestPlane;

    private record Step(SimdKernel kernel, int[] inputs, int[] outputs) {
    }

    SimdPartition(Partition partition, CompileContext context) {
        this.partition = partition;
        this.threads = context.threads();
        for (BoundNode n : partition.nodes()) {
            n.node().inputs().forEach(this::slot);
            n.node().outputs().forEach(this::slot);
        }
        partition.inputs().forEach(this::slot);
        partition.outputs().forEach(this::slot);
        shapes = new Shape[slots.size()];
        slots.forEach((name, i) -> shapes[i] = partition.shape(name));

        Map<BoundNode, SimdKernel> kernelOf = new HashMap<>();
        long scratch = 0;
        for (BoundNode n : partition.nodes()) {
            KernelRegistry.Choice<SimdKernel> choice = context.kernels().best(CpuSimdBackend.ID, SimdKernel.class, n,
                    null);
            if (choice == null) {
                throw new IllegalArgumentException("no cpu-simd kernel for " + n.node().describe());
            }
            SimdKernel kernel = choice.factory().create(n, context);
            kernelOf.put(n, kernel);
            scratch = Math.max(scratch, kernel.scratchFloats());
            kernels.add(new NodeKernel(n.name(), choice.kernel(), choice.provider(), kernel.algorithm()));
            steps.add(new Step(kernel, indices(n.node().inputs()), indices(n.node().outputs())));
        }
        scratchFloats = scratch;
        memoryPlan = MemoryPlanner.plan(partition.nodes(), partition.inputs(), partition.outputs(),
                partition.constants().keySet(), (n, input) -> kernelOf.get(n).inPlaceInput() == input,
                s -> BlockedLayout.floats(s) * Float.BYTES);
        bufferOfSlot = new int[slots.size()];
        slots.forEach((name, i) -> bufferOfSlot[i] = partition.constants().containsKey(name) ? -1
                : memoryPlan.bufferOf().get(name));
        int plane = 0;
        for (String v : partition.inputs()) {
            plane = Math.max(plane, planeOf(partition.shape(v)));
        }
        for (String v : partition.outputs()) {
            plane = Math.max(plane, planeOf(partition.shape(v)));
        }
        largestPlane = plane;
    }

    private static int planeOf(Shape s) {
        return s.rank() == 4 ? s.dim(2) * s.dim(3) : 0;
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
        return new SimdWorkspace();
    }

    @Override
    public String describe() {
        return "cpu-simd kernels on NCHW" + BlockedLayout.LANES + "c heap buffers, " + steps.size() + " nodes, "
                + memoryPlan.bufferCount() + " activation buffers of " + memoryPlan.plannedBytes() + " bytes";
    }

    @Override
    public List<NodeKernel> kernels() {
        return kernels;
    }

    @Override
    public void close() {
        // Heap arrays only; the garbage collector frees them.
    }

    private final class SimdWorkspace implements Workspace {
        private final float[][] values = new float[shapes.length][];
        private final float[][][] stepInputs = new float[steps.size()][][];
        private final float[][][] stepOutputs = new float[steps.size()][][];
        private final float[] scratch = new float[Math.toIntExact(scratchFloats)];
        private final float[] plane = new float[largestPlane];

        SimdWorkspace() {
            float[][] buffers = new float[memoryPlan.bufferCount()][];
            for (int b = 0; b < buffers.length; b++) {
                buffers[b] = new float[Math.toIntExact(memoryPlan.bufferBytes().get(b) / Float.BYTES)];
            }
            for (int i = 0; i < values.length; i++) {
                values[i] = bufferOfSlot[i] >= 0 ? buffers[bufferOfSlot[i]] : null;
            }
            for (int s = 0; s < steps.size(); s++) {
                stepInputs[s] = gather(steps.get(s).inputs);
                stepOutputs[s] = gather(steps.get(s).outputs);
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
        public void upload(int index, Tensor host) {
            int slot = slots.get(partition.inputs().get(index));
            Shape s = shapes[slot];
            float[] dst = values[slot];
            if (s.rank() != 4) {
                host.copyTo(0, dst, 0, s.elementCountInt());
                return;
            }
            int n = s.dim(0), c = s.dim(1), hw = s.dim(2) * s.dim(3), lanes = BlockedLayout.LANES;
            int blocks = BlockedLayout.blocks(c);
            MemorySegment src = host.segment();
            int rows = s.dim(2);
            // Pixel by pixel, so that every write fills one block's lanes in a row (one cache line
            // at 16 lanes) instead of striding across the whole plane once per channel.
            threads.parallelFor(n * blocks * rows, task -> {
                int plane = task / rows, b = plane / blocks, cb = plane % blocks;
                int from = task % rows * (hw / rows), to = from + hw / rows;
                int real = Math.min(lanes, c - cb * lanes);
                long channel0 = ((long) b * c + (long) cb * lanes) * hw;
                for (int p = from; p < to; p++) {
                    int at = ((b * blocks + cb) * hw + p) * lanes;
                    for (int l = 0; l < real; l++) {
                        dst[at + l] = src.getAtIndex(ValueLayout.JAVA_FLOAT, channel0 + (long) l * hw + p);
                    }
                    for (int l = real; l < lanes; l++) {
                        dst[at + l] = 0f; // padding channels are zero, as every kernel assumes
                    }
                }
            });
        }

        @Override
        public void execute() {
            for (int s = 0; s < steps.size(); s++) {
                steps.get(s).kernel.execute(stepInputs[s], stepOutputs[s], scratch, threads);
            }
        }

        @Override
        public void download(int index, Tensor host) {
            int slot = slots.get(partition.outputs().get(index));
            Shape s = shapes[slot];
            float[] src = values[slot];
            if (s.rank() != 4) {
                host.copyFrom(src, 0, 0, s.elementCountInt());
                return;
            }
            int n = s.dim(0), c = s.dim(1), hw = s.dim(2) * s.dim(3), lanes = BlockedLayout.LANES;
            int blocks = BlockedLayout.blocks(c);
            for (int b = 0; b < n; b++) {
                for (int ch = 0; ch < c; ch++) {
                    int base = ((b * blocks + ch / lanes) * hw) * lanes + ch % lanes;
                    for (int p = 0; p < hw; p++) {
                        plane[p] = src[base + p * lanes];
                    }
                    host.copyFrom(plane, 0, ((long) b * c + ch) * hw, hw);
                }
            }
        }

        @Override
        public void close() {
        }
    }
}
