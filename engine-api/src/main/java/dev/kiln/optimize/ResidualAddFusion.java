package dev.kiln.optimize;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.PostOp;

import java.util.ArrayList;
import java.util.List;

/**
 * Fuses {@code Add(c, r)} into the Conv that produces c: the conv reads r as its residual input
 * (input 3) and gains a {@link PostOp.AddResidual} after its existing post-ops. This is the
 * shortcut of ResNet and of the inverted residuals of MobileNet v2 and EfficientNet. A Relu
 * after the Add then follows the fused conv directly, and {@link ActivationFusion} takes it.
 *
 * <p>Conditions: c is read by the Add alone and is not a graph output, r is not a constant, the
 * conv has no residual yet, and r has exactly the Add's output shape at every batch size (no broadcasting). The fused
 * conv runs where the Add ran, so r is computed before it; and r cannot depend on the conv,
 * because the conv's output has no reader besides the Add. When both operands qualify, the conv
 * that comes later in the order fuses: the main branch of a block, whose shortcut is ready
 * first.
 *
 * <p>Input 2, the bias, is required before the residual (the IR's arity rule), so a conv
 * without bias gets a zero one.
 */
public final class ResidualAddFusion implements Pass {

    @Override
    public String name() {
        return "residual-add-fusion";
    }

    @Override
    public int run(WorkingGraph graph) {
        int fused = 0;
        for (Node add : graph.nodes()) {
            if (!graph.contains(add) || !(add.op() instanceof Binary b) || b.kind() != Binary.Kind.ADD) {
                continue;
            }
            int operand = chooseConvOperand(add, graph);
            if (operand >= 0) {
                fuse(add, operand, graph);
                fused++;
            }
        }
        return fused;
    }

    /** Which input of the Add (0 or 1) comes from a conv that can absorb the Add; -1 for neither. */
    private static int chooseConvOperand(Node add, WorkingGraph graph) {
        int chosen = -1;
        int chosenPosition = -1;
        for (int i = 0; i < 2; i++) {
            Node producer = graph.producer(add.input(i));
            if (canAbsorb(add, i, producer, graph) && graph.positionOf(producer) > chosenPosition) {
                chosen = i;
                chosenPosition = graph.positionOf(producer);
            }
        }
        return chosen;
    }

    private static boolean canAbsorb(Node add, int operand, Node producer, WorkingGraph graph) {
        if (producer == null || !(producer.op() instanceof Conv conv) || conv.hasResidual()) {
            return false;
        }
        String convOutput = add.input(operand);
        String residual = add.input(1 - operand);
        ValueShapes shapes = graph.shapes();
        // A constant addend is no residual: backends read input 3 as an activation (cpu-simd's
        // kernels found it null; kiln fuzz), and a constant is a bias's business anyway.
        return !graph.isConstant(residual) && graph.isOnlyReadBy(convOutput, add) && shapes.sameAtEveryBatch(residual, add.output())
                && shapes.sameAtEveryBatch(convOutput, add.output());
    }

    /** The fused conv takes the Add's place and output; the conv node goes. */
    private static void fuse(Node add, int operand, WorkingGraph graph) {
        Node convNode = graph.producer(add.input(operand));
        Conv conv = (Conv) convNode.op();
        String bias = convNode.input(2);
        if (bias.isEmpty()) {
            Shape weights = graph.shapes().of(convNode.input(1));
            bias = graph.addConstant(convNode.name() + "_zero_bias", Tensor.allocate(weights.dim(0)));
        }
        List<PostOp> postOps = new ArrayList<>(conv.postOps());
        postOps.add(new PostOp.AddResidual());
        List<String> inputs = List.of(convNode.input(0), convNode.input(1), bias, add.input(1 - operand));
        graph.remove(convNode);
        graph.replace(add, new Node(convNode.name(), conv.withPostOps(postOps), inputs, add.outputs()));
    }
}
