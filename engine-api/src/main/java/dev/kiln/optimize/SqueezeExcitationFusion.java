package dev.kiln.optimize;

import dev.kiln.graph.Node;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.SqueezeExcitation;
import dev.kiln.graph.ops.Window;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Recognises a squeeze-and-excitation block, after {@link ActivationFusion} has put the
 * activations into the 1x1 convs:
 * <pre>
 *   p = GlobalAveragePool(x)
 *   s = Conv1x1(p) with post-op SiLU or Relu
 *   g = Conv1x1(s) with post-op Sigmoid or HardSigmoid
 *   y = Mul(x, g)          (either operand order; g broadcast over H and W)
 * </pre>
 * and replaces the four nodes by one {@link SqueezeExcitation} node, which a backend can run as
 * one kernel. p, s and g must be read by the next node of the chain alone; x may have other
 * readers (it usually does not, but it is read twice here anyway).
 */
public final class SqueezeExcitationFusion implements Pass {
    private static final Set<ActivationFunction.Kind> SQUEEZE = Set.of(ActivationFunction.Kind.SILU,
            ActivationFunction.Kind.RELU);
    private static final Set<ActivationFunction.Kind> GATE = Set.of(ActivationFunction.Kind.SIGMOID,
            ActivationFunction.Kind.HARD_SIGMOID);

    @Override
    public String name() {
        return "squeeze-excitation-fusion";
    }

    @Override
    public int run(WorkingGraph graph) {
        int fused = 0;
        for (Node mul : graph.nodes()) {
            if (graph.contains(mul) && mul.op() instanceof Binary b && b.kind() == Binary.Kind.MUL
                    && (fuse(mul, 0, graph) || fuse(mul, 1, graph))) {
                fused++;
            }
        }
        return fused;
    }

    /** Tries the pattern with the gate as the Mul's input {@code gateOperand}. */
    private static boolean fuse(Node mul, int gateOperand, WorkingGraph graph) {
        String x = mul.input(1 - gateOperand);
        Node gate = graph.producer(mul.input(gateOperand));
        ActivationFunction gateFunction = pointwiseActivation(gate, GATE, mul, graph);
        if (gateFunction == null) {
            return false;
        }
        Node squeeze = graph.producer(gate.input(0));
        ActivationFunction squeezeFunction = pointwiseActivation(squeeze, SQUEEZE, gate, graph);
        if (squeezeFunction == null) {
            return false;
        }
        Node pool = graph.producer(squeeze.input(0));
        if (pool == null || !pool.op().equals(GlobalPool.AVERAGE) || !pool.input(0).equals(x)
                || !graph.isOnlyReadBy(pool.output(), squeeze)) {
            return false;
        }
        ValueShapes shapes = graph.shapes();
        if (shapes.of(x).rank() != 4 || !shapes.sameAtEveryBatch(x, mul.output())
                || shapes.of(gate.output()).dim(1) != shapes.of(x).dim(1)) {
            return false;
        }
        List<String> inputs = new ArrayList<>(List.of(x, squeeze.input(1), gate.input(1), squeeze.input(2),
                gate.input(2)));
        while (inputs.getLast().isEmpty()) {
            inputs.removeLast(); // absent optional biases at the end are left out, not named ""
        }
        graph.remove(pool);
        graph.remove(squeeze);
        graph.remove(gate);
        graph.replace(mul, new Node(mul.name(), new SqueezeExcitation(squeezeFunction, gateFunction), inputs,
                mul.outputs()));
        return true;
    }

    /**
     * The activation of a 1x1, stride-1, unpadded, ungrouped conv whose only post-op is one
     * activation of the given kinds and whose output only {@code reader} reads; else null.
     */
    private static ActivationFunction pointwiseActivation(Node node, Set<ActivationFunction.Kind> kinds,
                                                          Node reader, WorkingGraph graph) {
        if (node == null || !(node.op() instanceof Conv conv) || conv.groups() != 1
                || !isPointwise(conv.window()) || conv.postOps().size() != 1
                || !(conv.postOps().getFirst() instanceof PostOp.Activate(ActivationFunction f))
                || !kinds.contains(f.kind()) || !graph.isOnlyReadBy(node.output(), reader)) {
            return null;
        }
        return f;
    }

    private static boolean isPointwise(Window w) {
        Window resolved = w.resolve(1, 1);
        return w.kernelH() == 1 && w.kernelW() == 1 && w.strideH() == 1 && w.strideW() == 1
                && resolved.padTop() == 0 && resolved.padLeft() == 0 && resolved.padBottom() == 0
                && resolved.padRight() == 0;
    }
}
