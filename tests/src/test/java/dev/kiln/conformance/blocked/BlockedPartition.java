package dev.kiln.conformance.blocked;

import dev.kiln.Tensor;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Conv;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Workspace;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A partition compiled for the blocked backend. Every activation value of the partition gets a
 * slot holding an NCHW16c buffer; weights are packed into the convolution kernels and constant
 * activations (a constant operand of Add) are converted to the blocked layout, both once, here.
 * Host tensors are touched only by {@link Workspace#upload} and {@link Workspace#download}.
 */
final class BlockedPartition implements CompiledPartition {
    private final Partition partition;
    private final AtomicLong uploads;
    private final AtomicLong downloads;
    private final Map<String, Integer> slots = new HashMap<>();
    private final List<BlockedLayout> layouts = new ArrayList<>();
    private final List<float[]> constants = new ArrayList<>();
    private final List<Step> steps = new ArrayList<>();

    /** A kernel with the slots of its activation inputs (-1 for inputs it took at compile time) and of its output. */
    private record Step(BlockedKernel kernel, int[] inputs, int output) {
    }

    BlockedPartition(Partition partition, AtomicLong uploads, AtomicLong downloads) {
        this.partition = partition;
        this.uploads = uploads;
        this.downloads = downloads;
        for (BoundNode node : partition.nodes()) {
            BlockedKernel kernel = switch (node.op()) {
                case Conv c -> new BlockedConvKernel(node);
                case Activation a -> PointwiseKernels::relu;
                case Binary b -> PointwiseKernels::add;
                default -> throw new IllegalArgumentException("the blocked test backend cannot compile "
                        + node.node().describe());
            };
            List<String> names = node.node().inputs();
            int[] inputs = new int[names.size()];
            for (int i = 0; i < inputs.length; i++) {
                boolean activation = !(node.op() instanceof Conv) || i == 0 || i == 3;
                inputs[i] = activation ? slot(names.get(i)) : -1;
            }
            steps.add(new Step(kernel, inputs, slot(node.node().output())));
        }
    }

    private int slot(String value) {
        Integer existing = slots.get(value);
        if (existing != null) {
            return existing;
        }
        BlockedLayout layout = BlockedLayout.of(partition.shape(value));
        Tensor constant = partition.constants().get(value);
        float[] blocked = null;
        if (constant != null) {
            blocked = new float[layout.size()];
            layout.fromNchw(constant, blocked);
        }
        slots.put(value, layouts.size());
        layouts.add(layout);
        constants.add(blocked);
        return layouts.size() - 1;
    }

    @Override
    public Workspace newWorkspace() {
        return new BlockedWorkspace();
    }

    @Override
    public String describe() {
        return "blocked NCHW16c test kernels, " + steps.size() + " nodes";
    }

    @Override
    public void close() {
        // Heap buffers only.
    }

    private final class BlockedWorkspace implements Workspace {
        private final float[][] buffers = new float[layouts.size()][];
        private final float[][][] stepInputs = new float[steps.size()][][];

        BlockedWorkspace() {
            for (int s = 0; s < buffers.length; s++) {
                buffers[s] = constants.get(s) != null ? constants.get(s) : new float[layouts.get(s).size()];
            }
            for (int i = 0; i < steps.size(); i++) {
                int[] inputs = steps.get(i).inputs();
                stepInputs[i] = new float[inputs.length][];
                for (int j = 0; j < inputs.length; j++) {
                    stepInputs[i][j] = inputs[j] < 0 ? null : buffers[inputs[j]];
                }
            }
        }

        @Override
        public void upload(int index, Tensor host) {
            int s = slots.get(partition.inputs().get(index));
            layouts.get(s).fromNchw(host, buffers[s]);
            uploads.incrementAndGet();
        }

        @Override
        public void execute() {
            for (int i = 0; i < steps.size(); i++) {
                steps.get(i).kernel().execute(stepInputs[i], buffers[steps.get(i).output()]);
            }
        }

        @Override
        public void download(int index, Tensor host) {
            int s = slots.get(partition.outputs().get(index));
            layouts.get(s).toNchw(buffers[s], host);
            downloads.incrementAndGet();
        }

        @Override
        public void close() {
        }
    }
}
