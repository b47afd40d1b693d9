package com.example.kiln.vendor;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.ProvidedOp;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Workspace;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A compiled partition: every value gets a slot; constants are read into arrays once, here;
 * each workspace allocates the other slots. Plain row-major float arrays on the heap.
 */
final class ExamplePartition implements CompiledPartition {
    private final Partition partition;
    private final Map<String, Integer> slots = new HashMap<>();
    private final int[] sizes;
    private final float[][] constants;

    ExamplePartition(Partition partition) {
        this.partition = partition;
        for (BoundNode n : partition.nodes()) {
            n.node().inputs().forEach(this::slot);
            n.node().outputs().forEach(this::slot);
        }
        sizes = new int[slots.size()];
        constants = new float[slots.size()][];
        slots.forEach((value, slot) -> {
            Tensor constant = partition.constants().get(value);
            if (constant != null) {
                constants[slot] = constant.toFloatArray();
            } else if (partition.shape(value) != null) {
                sizes[slot] = partition.shape(value).elementCountInt();
            }
        });
    }

    private void slot(String value) {
        if (!value.isEmpty()) {
            slots.putIfAbsent(value, slots.size());
        }
    }

    @Override
    public Workspace newWorkspace() {
        float[][] buffers = new float[sizes.length][];
        for (int i = 0; i < sizes.length; i++) {
            buffers[i] = constants[i] != null ? constants[i] : new float[sizes[i]];
        }
        return new Workspace() {
            @Override
            public void upload(int index, Tensor host) {
                float[] b = buffers[slots.get(partition.inputs().get(index))];
                host.copyTo(0, b, 0, b.length);
            }

            @Override
            public void execute() {
                for (BoundNode n : partition.nodes()) {
                    run(n, buffers);
                }
            }

            @Override
            public void download(int index, Tensor host) {
                float[] b = buffers[slots.get(partition.outputs().get(index))];
                host.copyFrom(b, 0, 0, b.length);
            }

            @Override
            public void close() {
            }
        };
    }

    private void run(BoundNode n, float[][] buffers) {
        float[] y = buffers[slots.get(n.node().output())];
        List<String> in = n.node().inputs();
        float[] x = buffers[slots.get(in.getFirst())];
        switch (n.op()) {
            case Activation a -> {
                ActivationFunction f = a.function();
                for (int i = 0; i < y.length; i++) {
                    y[i] = f.apply(x[i]);
                }
            }
            case Binary b -> {
                float[] x1 = buffers[slots.get(in.get(1))];
                for (int i = 0; i < y.length; i++) {
                    y[i] = b.kind().apply(x[i], x1[i]);
                }
            }
            case GlobalPool g -> globalPool(g, n.inputShape(0), x, y);
            case ProvidedOp p -> gelu(GeluOp.usesTanh(p), x, y); // the only provided op the backend claims
            default -> System.arraycopy(x, 0, y, 0, y.length); // Flatten, Reshape: same elements, same order
        }
    }

    /**
     * The backend's own GELU kernel, in float: the tanh form as x * sigmoid(2u), since
     * (1 + tanh(u)) / 2 = sigmoid(2u), a different formula from the reference kernel's.
     */
    private static void gelu(boolean tanh, float[] x, float[] y) {
        for (int i = 0; i < y.length; i++) {
            float v = x[i];
            if (tanh) {
                float u2 = 1.5957691f * (v + 0.044715f * v * v * v);
                y[i] = v / (1 + (float) Math.exp(-u2));
            } else {
                y[i] = (float) (0.5 * v * (1 + GeluOp.erf(v * 0.70710678)));
            }
        }
    }

    private static void globalPool(GlobalPool g, Shape shape, float[] x, float[] y) {
        int planes = shape.dim(0) * shape.dim(1);
        int area = shape.dim(2) * shape.dim(3);
        for (int p = 0; p < planes; p++) {
            double sum = 0;
            float max = Float.NEGATIVE_INFINITY;
            for (int i = p * area; i < (p + 1) * area; i++) {
                sum += x[i];
                max = Math.max(max, x[i]);
            }
            y[p] = g.kind() == GlobalPool.Kind.AVERAGE ? (float) (sum / area) : max;
        }
    }

    @Override
    public String describe() {
        return "example-vendor: " + partition.nodes().size() + " nodes on heap arrays";
    }

    @Override
    public void close() {
    }
}
