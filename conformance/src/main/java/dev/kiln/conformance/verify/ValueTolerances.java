package dev.kiln.conformance.verify;

import dev.kiln.Shape;
import dev.kiln.conformance.Tolerance;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.Op;
import dev.kiln.graph.ops.Softmax;
import dev.kiln.graph.ops.SqueezeExcitation;

import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The tolerance of every value a graph computes. A value is the output of the sub-network of
 * the nodes it depends on, so it gets {@link Tolerance#forNetwork} of that sub-network: its
 * depth is the number of reducing nodes among the value's ancestors (itself included) and its
 * reduction length the longest of theirs. The graph's final outputs thus get the bound a whole
 * {@link dev.kiln.conformance.ModelCases model case} gets, and a one-node graph the bound of its
 * {@link dev.kiln.conformance.OpCases op case}; values in between get bounds in between.
 */
public final class ValueTolerances {
    private ValueTolerances() {
    }

    /** Tolerances by value name for the node outputs of {@code graph} at these (inferred) shapes. */
    public static Map<String, Tolerance> of(Graph graph, Map<String, Shape> shapes) {
        List<Node> nodes = graph.nodes();
        Map<String, BitSet> ancestors = new HashMap<>();
        long[] reduction = new long[nodes.size()];
        Map<String, Tolerance> tolerances = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            List<Shape> in = n.inputs().stream().map(v -> v.isEmpty() ? null : shapes.get(v)).toList();
            List<Shape> out = n.outputs().stream().map(v -> v.isEmpty() ? null : shapes.get(v)).toList();
            BitSet reducing = new BitSet();
            for (String v : n.inputs()) {
                BitSet a = ancestors.get(v);
                if (a != null) {
                    reducing.or(a);
                }
            }
            reduction[i] = reductionLength(n.op(), in, out);
            if (reduction[i] > 1) {
                reducing.set(i);
            }
            long longest = 1;
            for (int a = reducing.nextSetBit(0); a >= 0; a = reducing.nextSetBit(a + 1)) {
                longest = Math.max(longest, reduction[a]);
            }
            Tolerance t = Tolerance.forNetwork(longest, Math.max(1, reducing.cardinality()));
            for (String v : n.outputs()) {
                if (!v.isEmpty()) {
                    ancestors.put(v, reducing);
                    tolerances.put(v, t);
                }
            }
        }
        return tolerances;
    }

    /**
     * The terms summed into one output element: multiply-accumulates per output element for the
     * ops that count them; the window for global pooling and softmax; the three chained
     * reductions of squeeze-excitation (as its op cases count them); 1 for pointwise ops.
     */
    static long reductionLength(Op op, List<Shape> in, List<Shape> out) {
        Shape x = in.isEmpty() ? null : in.getFirst();
        Shape y = out.isEmpty() ? null : out.getFirst();
        if (x == null || y == null || y.elementCount() == 0) {
            return 1;
        }
        long fromMacs = op.macs(in, out) / y.elementCount();
        long own = switch (op) {
            case SqueezeExcitation se -> x.product(2, x.rank()) + x.dim(1) + in.get(1).dim(0);
            case GlobalPool g -> x.product(2, x.rank());
            case Softmax s -> x.elementCount() / Math.max(1, x.dim(0));
            default -> 1;
        };
        return Math.max(1, Math.max(fromMacs, own));
    }
}
