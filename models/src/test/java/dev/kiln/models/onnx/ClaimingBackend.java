package dev.kiln.models.onnx;

import dev.kiln.Tensor;
import dev.kiln.graph.ops.ProvidedOp;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;
import dev.kiln.spi.Workspace;

import java.util.HashMap;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;

/**
 * A test backend that claims one elementwise op a model file may hold, by domain and op name, as
 * a vendor's backend claims its own op, and runs nothing else. It computes the op with its own
 * function, on heap arrays.
 */
final class ClaimingBackend implements Backend {
    static final String ID = "claiming";
    private final String op;
    private final DoubleUnaryOperator function;

    /** @param op the op's qualified name, {@code domain.name} */
    ClaimingBackend(String op, DoubleUnaryOperator function) {
        this.op = op;
        this.function = function;
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public int rank() {
        return 1;
    }

    @Override
    public Support supports(BoundNode node, CompileContext context) {
        return node.op() instanceof ProvidedOp p && p.type().equals(op) ? Support.YES
                : Support.no(node.op().type() + " is not " + op);
    }

    @Override
    public CompiledPartition compile(Partition partition, CompileContext context) {
        return new CompiledPartition() {
            @Override
            public Workspace newWorkspace() {
                return new ClaimedOpWorkspace(partition);
            }

            @Override
            public void close() {
            }
        };
    }

    /** Values by name as heap arrays; each claimed node maps its first input through the function. */
    private final class ClaimedOpWorkspace implements Workspace {
        private final Partition partition;
        private final Map<String, float[]> values = new HashMap<>();

        ClaimedOpWorkspace(Partition partition) {
            this.partition = partition;
        }

        @Override
        public void upload(int index, Tensor host) {
            values.put(partition.inputs().get(index), host.toFloatArray());
        }

        @Override
        public void execute() {
            for (BoundNode n : partition.nodes()) {
                float[] x = values.get(n.node().input(0));
                float[] y = new float[x.length];
                for (int i = 0; i < x.length; i++) {
                    y[i] = (float) function.applyAsDouble(x[i]);
                }
                values.put(n.node().output(), y);
            }
        }

        @Override
        public void download(int index, Tensor host) {
            float[] y = values.get(partition.outputs().get(index));
            host.copyFrom(y, 0, 0, y.length);
        }

        @Override
        public void close() {
        }
    }
}
