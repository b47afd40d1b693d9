package dev.kiln.conformance;

import dev.kiln.Tensor;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Device;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;
import dev.kiln.spi.Workspace;

import java.util.HashMap;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;

/**
 * A backend that runs only Relu, and computes it with a function given by the test instead of
 * max(0, x): a stand-in for a buggy or imprecise kernel, to show what the harness catches.
 */
final class FaultyReluBackend implements Backend {
    private final String id;
    private final DoubleUnaryOperator relu;

    FaultyReluBackend(String id, DoubleUnaryOperator relu) {
        this.id = id;
        this.relu = relu;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public int rank() {
        return 10;
    }

    @Override
    public Support supports(BoundNode node, CompileContext context) {
        return node.op() instanceof Activation a && a.function().kind() == ActivationFunction.Kind.RELU
                ? Support.YES : Support.no("only Relu");
    }

    @Override
    public CompiledPartition compile(Partition partition, CompileContext context) {
        return new CompiledPartition() {
            @Override
            public Workspace newWorkspace() {
                return new FaultyWorkspace(partition);
            }

            @Override
            public void close() {
            }
        };
    }

    /** Host copies of the partition's values, by name. */
    private final class FaultyWorkspace implements Workspace {
        private final Partition partition;
        private final Map<String, float[]> values = new HashMap<>();

        FaultyWorkspace(Partition partition) {
            this.partition = partition;
        }

        @Override
        public void upload(int index, Tensor host) {
            values.put(partition.inputs().get(index), host.toFloatArray());
        }

        @Override
        public void execute() {
            for (BoundNode node : partition.nodes()) {
                float[] x = values.get(node.node().input(0));
                float[] y = new float[x.length];
                for (int i = 0; i < x.length; i++) {
                    y[i] = (float) relu.applyAsDouble(x[i]);
                }
                values.put(node.node().output(), y);
            }
        }

        @Override
        public void download(int index, Tensor host) {
            host.copyFrom(values.get(partition.outputs().get(index)));
        }

        @Override
        public void close() {
        }
    }
}
