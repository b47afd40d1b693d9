package dev.kiln.cpusimd;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Node;
import dev.kiln.spi.memory.HeapValueSlots;
import dev.kiln.spi.memory.MemoryPlan;
import dev.kiln.spi.memory.MemoryPlanner;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.HostThreads;
import dev.kiln.spi.KernelRegistry;
import dev.kiln.spi.NodeKernel;
import dev.kiln.spi.NodeTimes;
import dev.kiln.spi.Partition;
import dev.kiln.spi.RunCheckpoint;
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
    private final HostThreads threads;
    private final HeapValueSlots slots;
    private final MemoryPlan memoryPlan;
    private final List<Step> steps = new ArrayList<>();
    private final List<NodeKernel> kernels = new ArrayList<>();
    private final long scratchFloats;
    /** See {@link #paddedUploads}. */
    private final PaddedInput[] paddedUploads;

    /** One kernel call: node {@code node}'s, and node {@code alsoNode}'s too when it is fused in (else -1). */
    private record Step(SimdKernel kernel, int[] inputs, int[] outputs, int node, int alsoNode) {
    }

    SimdPartition(Partition partition, CompileContext context) {
        this.threads = context.threads();
        this.slots = new HeapValueSlots(partition);
        List<BoundNode> nodes = partition.nodes();
        Map<BoundNode, SimdKernel> kernelOf = new HashMap<>();
        List<KernelRegistry.Choice<SimdKernel>> choices = new ArrayList<>();
        for (BoundNode n : nodes) {
            KernelRegistry.Choice<SimdKernel> choice = context.kernels().best(CpuSimdBackend.ID, SimdKernel.class, n,
                    null);
            if (choice == null) {
                throw new IllegalArgumentException("no cpu-simd kernel for " + n.node().describe());
            }
            kernelOf.put(n, choice.create(n, context));
            choices.add(choice);
        }
        this.paddedUploads = paddedUploads(partition, kernelOf);

        // Steps, and the nodes the memory plan sees: a fused pair is one node from the first
        // one's inputs to the second one's outputs, so the value between them gets no buffer.
        List<BoundNode> planned = new ArrayList<>();
        Map<BoundNode, SimdKernel> plannedKernel = new HashMap<>();
        String[] algorithms = new String[nodes.size()];
        boolean[] fusedIn = new boolean[nodes.size()];
        for (int i = 0; i < nodes.size(); i++) {
            if (fusedIn[i]) {
                continue;
            }
            BoundNode n = nodes.get(i);
            SimdKernel kernel = kernelOf.get(n);
            int next = depthwiseReadingOnly(partition, i, kernelOf);
            if (next >= 0) {
                BoundNode d = nodes.get(next);
                Shape expanded = n.outputShape();
                kernel = new ExpansionDepthwiseKernel((ExpansionRows) kernel, (DepthwiseRows) kernelOf.get(d),
                        expanded.dim(0), expanded.dim(2), expanded.dim(3), threads.parallelism());
                fusedIn[next] = true;
                n = new BoundNode(new Node(n.name(), n.op(), n.node().inputs(), d.node().outputs()), n.inputShapes(),
                        d.outputShapes(), n.constants());
                algorithms[i] = kernelOf.get(nodes.get(i)).algorithm() + "; one step with " + d.name() + " ("
                        + kernel.algorithm() + ", timed here)";
                algorithms[next] = kernelOf.get(d).algorithm() + "; one step with " + nodes.get(i).name() + " ("
                        + kernel.algorithm() + ", timed with " + nodes.get(i).name() + ")";
            } else {
                algorithms[i] = kernel.algorithm();
            }
            steps.add(new Step(kernel, slots.slots(n.node().inputs()), slots.slots(n.node().outputs()), i, next));
            planned.add(n);
            plannedKernel.put(n, kernel);
        }
        long scratch = 0;
        for (Step step : steps) {
            scratch = Math.max(scratch, step.kernel.scratchFloats());
        }
        for (int i = 0; i < nodes.size(); i++) {
            KernelRegistry.Choice<SimdKernel> choice = choices.get(i);
            kernels.add(new NodeKernel(nodes.get(i).name(), choice.kernel(), choice.provider(), algorithms[i]));
        }
        scratchFloats = scratch;
        memoryPlan = MemoryPlanner.plan(planned, partition.inputs(), partition.outputs(),
                partition.constants().keySet(), (n, input) -> plannedKernel.get(n).inPlaceInput() == input,
                s -> BlockedLayout.floats(s) * Float.BYTES);
    }

    /**
     * The index of the depthwise convolution that is the only reader of node {@code i}'s output,
     * when the two can run as one {@link ExpansionDepthwiseKernel} (their kernels take
     * {@link FusedForm#EXPANSION_ROWS} and {@link FusedForm#DEPTHWISE_ROWS}); else -1.
     */
    private static int depthwiseReadingOnly(Partition partition, int i, Map<BoundNode, SimdKernel> kernelOf) {
        List<BoundNode> nodes = partition.nodes();
        SimdKernel first = kernelOf.get(nodes.get(i));
        if (!FusedForm.EXPANSION_ROWS.takenBy(first)) {
            return -1;
        }
        ExpansionRows expansion = (ExpansionRows) first;
        String value = nodes.get(i).node().outputs().getFirst();
        if (partition.outputs().contains(value)) {
            return -1;
        }
        int reader = -1;
        for (int j = i + 1; j < nodes.size(); j++) {
            for (String input : nodes.get(j).node().inputs()) {
                if (input.equals(value)) {
                    if (reader >= 0) {
                        return -1;
                    }
                    reader = j;
                }
            }
        }
        if (reader < 0 || !nodes.get(reader).node().inputs().getFirst().equals(value)
                || !FusedForm.DEPTHWISE_ROWS.takenBy(kernelOf.get(nodes.get(reader)))) {
            return -1;
        }
        return ((DepthwiseRows) kernelOf.get(nodes.get(reader))).blocks() == expansion.outputBlocks() ? reader : -1;
    }

    /**
     * Per partition input, the padded compact layout its upload writes directly, or null for
     * NCHWc. A few-channel image read only by one dense convolution (a network's first layer)
     * is laid out as that convolution would copy it anyway: the upload then writes 3 floats per
     * pixel instead of a whole block, and the convolution skips its copy. Only for a reader whose
     * kernel takes {@link FusedForm#COMPACT_PADDED_INPUT}.
     */
    private static PaddedInput[] paddedUploads(Partition partition, Map<BoundNode, SimdKernel> kernelOf) {
        PaddedInput[] layouts = new PaddedInput[partition.inputs().size()];
        for (int i = 0; i < layouts.length; i++) {
            String name = partition.inputs().get(i);
            if (partition.outputs().contains(name)) {
                continue;
            }
            BoundNode reader = null;
            int reads = 0;
            for (BoundNode n : partition.nodes()) {
                for (String input : n.node().inputs()) {
                    if (input.equals(name)) {
                        reads++;
                        reader = n;
                    }
                }
            }
            if (reads != 1 || !reader.node().inputs().getFirst().equals(name)
                    || !FusedForm.COMPACT_PADDED_INPUT.takenBy(kernelOf.get(reader))) {
                continue;
            }
            PaddedUploadReader conv = (PaddedUploadReader) kernelOf.get(reader);
            PaddedInput layout = conv.compactPaddedInput();
            // The value's buffer is sized for NCHWc; the padded layout must fit in it.
            if (layout != null && layout.floats() <= BlockedLayout.floats(reader.inputShape(0))) {
                conv.takePaddedInput();
                layouts[i] = layout;
            }
        }
        return layouts;
    }

    @Override
    public Workspace newWorkspace() {
        return new SimdWorkspace();
    }

    @Override
    public String describe() {
        return "cpu-simd kernels on NCHW" + BlockedLayout.LANES + "c heap buffers, " + kernels.size() + " nodes, "
                + memoryPlan.bufferCount() + " activation buffers of " + memoryPlan.plannedBytes() + " bytes";
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
     * A value handed to another cpu-simd partition in this backend's layout: the producing
     * workspace's own buffer (valid until that workspace runs again, which the runtime puts after
     * every reader of the run), so one array copy replaces the two layout conversions through host
     * memory.
     */
    private record ResidentValue(Shape shape, float[] buffer) {
    }

    private final class SimdWorkspace implements Workspace {
        // Kernels read their constants from what they packed at creation: constant slots stay null.
        private final float[][] values = slots.allocate(memoryPlan, null);
        private final float[][][] stepInputs = new float[steps.size()][][];
        private final float[][][] stepOutputs = new float[steps.size()][][];
        private final float[] scratch = new float[Math.toIntExact(scratchFloats)];

        SimdWorkspace() {
            for (int s = 0; s < steps.size(); s++) {
                stepInputs[s] = HeapValueSlots.gather(values, steps.get(s).inputs);
                stepOutputs[s] = HeapValueSlots.gather(values, steps.get(s).outputs);
            }
        }

        @Override
        public void upload(int index, Tensor host) {
            int slot = slots.inputSlot(index);
            Shape s = slots.shape(slot);
            float[] dst = values[slot];
            if (paddedUploads[index] != null) {
                paddedUploads[index].fromNchw(host.segment(), dst, threads);
                return;
            }
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
        public boolean importResident(int index, Object value) {
            if (paddedUploads[index] != null) {
                // Its convolution reads the padded compact layout that only upload writes; a
                // producer's NCHWc array would be read as that layout (found by kiln fuzz: a
                // 13-channel value handed over past a fallen-back LRN). Refused, it comes through
                // the host: downloaded from the producer, uploaded here.
                return false;
            }
            int slot = slots.inputSlot(index);
            if (!(value instanceof ResidentValue(Shape shape, float[] buffer)) || !shape.equals(slots.shape(slot))) {
                return false;
            }
            // A copy, not the producer's array itself: an in-place kernel here may overwrite its input.
            System.arraycopy(buffer, 0, values[slot], 0, Math.toIntExact(BlockedLayout.floats(shape)));
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
                RunCheckpoint.check(); // besides the pool's check between tasks: a kernel may run on this thread alone
                steps.get(s).kernel.execute(stepInputs[s], stepOutputs[s], scratch, threads);
            }
        }

        @Override
        public boolean executeTimed(NodeTimes times) {
            for (int s = 0; s < steps.size(); s++) {
                Step step = steps.get(s);
                long started = System.nanoTime();
                step.kernel.execute(stepInputs[s], stepOutputs[s], scratch, threads);
                times.record(step.node, System.nanoTime() - started);
                if (step.alsoNode >= 0) {
                    times.record(step.alsoNode, 0);
                }
            }
            return true;
        }

        @Override
        public void download(int index, Tensor host) {
            int slot = slots.outputSlot(index);
            Shape s = slots.shape(slot);
            float[] src = values[slot];
            if (s.rank() != 4) {
                host.copyFrom(src, 0, 0, s.elementCountInt());
                return;
            }
            int n = s.dim(0), c = s.dim(1), hw = s.dim(2) * s.dim(3), lanes = BlockedLayout.LANES;
            int blocks = BlockedLayout.blocks(c);
            MemorySegment dst = host.segment();
            for (int b = 0; b < n; b++) {
                for (int ch = 0; ch < c; ch++) {
                    int base = ((b * blocks + ch / lanes) * hw) * lanes + ch % lanes;
                    long plane = ((long) b * c + ch) * hw;
                    for (int p = 0; p < hw; p++) {
                        dst.setAtIndex(ValueLayout.JAVA_FLOAT, plane + p, src[base + p * lanes]);
                    }
                }
            }
        }

        @Override
        public void close() {
        }
    }
}
