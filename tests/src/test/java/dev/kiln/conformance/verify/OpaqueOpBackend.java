package dev.kiln.conformance.verify;

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
 * A backend that claims one elementwise op Kiln does not know (by its qualified name), as a
 * vendor's backend claims its own op, computes it with the given function on heap arrays, and
 * runs nothing else.
 */
final class OpaqueOpBackend implements Backend {
    private final String id;
    private final String op;
    private final DoubleUnaryOperator function;

    OpaqueOpBackend(String id, String op, DoubleUnaryOperator function) {
        this.id = id;
        this.op = op;
        this.function = function;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public int rank() {
        return 5;
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
                Map<String, float[]> values = new HashMap<>();
                return new Workspace() {
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
                };
            }

            @Override
            public void close() {
            }
        };
    }
}
