package dev.kiln.conformance.verify;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.conformance.Tolerance;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.AveragePool;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Concat;
import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.Op;
import dev.kiln.graph.ops.Pad;
import dev.kiln.graph.ops.Passthrough;
import dev.kiln.graph.ops.Reshape;
import dev.kiln.graph.ops.Softmax;
import dev.kiln.graph.ops.SqueezeExcitation;
import dev.kiln.graph.ops.Transpose;

import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

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
     * The magnitude each value's rounding error is measured against, by value name: its own
     * largest reference magnitude, or more where pointwise ops may have cancelled what produced it.
     * {@code Sub(LRN(x), x)} with LRN close to the identity is a thousandth of x, while both
     * operands carry rounding errors relative to x (found by kiln fuzz: cpu-simd and onednn 1e-4
     * "off" against a bound of 2e-6 of the difference's own scale). So an Add, Sub, Max or Min
     * passes on the sum of its operands' scales, a Mul their product, ops that move or map
     * values pointwise with a slope of at most about 1 (activations, Identity, reshapes, Concat,
     * Pad, Transpose) and poolings their input's; other reducing ops start afresh from their own
     * output, whose tolerance counts their reduction. (A convolution measured against its terms'
     * magnitudes compounds through a deep network and let a 1% fault in MobileNet v2 pass, so a
     * convolution whose sum cancels is still judged by its own scale: a known false failure.) {@code reference} holds the reference backend's values.
     */
    public static Map<String, Double> errorScales(Graph graph, Map<String, Tensor> reference) {
        Map<String, Double> scales = new HashMap<>();
        ToDoubleFunction<String> scaleOf = v -> {
            Double known = scales.get(v);
            if (known != null) {
                return known;
            }
            Tensor t = reference.get(v);
            if (t == null) {
                t = graph.initializers().get(v);
            }
            return t == null ? 0 : maxAbs(t.toFloatArray());
        };
        for (Node n : graph.nodes()) {
            double own = n.outputs().isEmpty() || !reference.containsKey(n.output()) ? 0
                    : maxAbs(reference.get(n.output()).toFloatArray());
            List<String> in = n.inputs().stream().filter(v -> !v.isEmpty()).toList();
            double carried = switch (n.op()) {
                case Binary b -> switch (b.kind()) {
                    case ADD, SUB, MAX, MIN -> in.stream().mapToDouble(scaleOf).sum();
                    case MUL -> in.stream().mapToDouble(scaleOf).reduce(1, (x, y) -> x * y);
                    case DIV -> 0;
                };
                case Activation a -> scaleOf.applyAsDouble(in.getFirst());
                case Passthrough p -> scaleOf.applyAsDouble(in.getFirst());
                case Reshape r -> scaleOf.applyAsDouble(in.getFirst());
                case Flatten f -> scaleOf.applyAsDouble(in.getFirst());
                case Transpose t -> scaleOf.applyAsDouble(in.getFirst());
                case Pad p -> scaleOf.applyAsDouble(in.getFirst());
                case Concat c -> in.stream().mapToDouble(scaleOf).max().orElse(0);
                case GlobalPool g -> scaleOf.applyAsDouble(in.getFirst());
                case MaxPool m -> scaleOf.applyAsDouble(in.getFirst());
                case AveragePool a -> scaleOf.applyAsDouble(in.getFirst());
                default -> 0;
            };
            for (String v : n.outputs()) {
                if (!v.isEmpty()) {
                    scales.put(v, Math.max(own, carried));
                }
            }
        }
        return scales;
    }

    private static double maxAbs(float[] values) {
        double m = 0;
        for (float f : values) {
            if (Float.isFinite(f)) {
                m = Math.max(m, Math.abs(f));
            }
        }
        return m;
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
