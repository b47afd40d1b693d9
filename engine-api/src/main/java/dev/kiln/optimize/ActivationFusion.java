package dev.kiln.optimize;

import dev.kiln.graph.Node;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.Op;
import dev.kiln.graph.ops.PostOp;

import java.util.ArrayList;
import java.util.List;

/**
 * Moves activations into the epilogue of the convolution or Gemm before them, in two steps:
 * <ol>
 * <li>SiLU written out as {@code Mul(x, Sigmoid(x))} (either operand order), as PyTorch exports
 *     it, becomes one {@code Activation(SILU)} node, whatever produces x;</li>
 * <li>an activation (any {@link ActivationFunction}: Relu, Clip as ReLU6 or any range, Sigmoid,
 *     HardSigmoid, HardSwish, LeakyRelu, Tanh, SiLU) whose input is a Conv output that nothing
 *     else reads and that is not a graph output is appended to that conv's post-ops; likewise
 *     after a Gemm (the classifier of VGG and GoogLeNet).</li>
 * </ol>
 * A conv that already has post-ops (an activation, a residual add) takes another: post-ops run
 * in order, so the result is the same.
 */
public final class ActivationFusion implements Pass {

    @Override
    public String name() {
        return "activation-fusion";
    }

    @Override
    public int run(WorkingGraph graph) {
        int rewrites = 0;
        for (Node n : graph.nodes()) {
            if (graph.contains(n) && isMul(n) && recognizeSilu(n, graph)) {
                rewrites++;
            }
        }
        for (Node n : graph.nodes()) {
            if (graph.contains(n) && n.op() instanceof Activation a && fuseIntoConv(n, a.function(), graph)) {
                rewrites++;
            }
        }
        return rewrites;
    }

    private static boolean isMul(Node n) {
        return n.op() instanceof Binary b && b.kind() == Binary.Kind.MUL;
    }

    /** Mul(x, s) or Mul(s, x) with s = Sigmoid(x) read only by the Mul: one SiLU node instead. */
    private static boolean recognizeSilu(Node mul, WorkingGraph graph) {
        for (int i = 0; i < 2; i++) {
            String gate = mul.input(i);
            String x = mul.input(1 - i);
            Node sigmoid = graph.producer(gate);
            if (sigmoid != null && sigmoid.op() instanceof Activation a
                    && a.function().kind() == ActivationFunction.Kind.SIGMOID
                    && sigmoid.input(0).equals(x) && graph.isOnlyReadBy(gate, mul)) {
                graph.remove(sigmoid);
                graph.replace(mul, new Node(mul.name(), new Activation(ActivationFunction.SILU), List.of(x),
                        mul.outputs()));
                return true;
            }
        }
        return false;
    }

    /** The fused conv takes the activation's place and output; the conv node goes. */
    private static boolean fuseIntoConv(Node activation, ActivationFunction f, WorkingGraph graph) {
        String x = activation.input(0);
        Node producer = graph.producer(x);
        if (producer == null || !graph.isOnlyReadBy(x, activation)) {
            return false;
        }
        Op fused = switch (producer.op()) {
            case Conv conv -> conv.withPostOps(append(conv.postOps(), f));
            case Gemm gemm -> gemm.withPostOps(append(gemm.postOps(), f));
            default -> null;
        };
        if (fused == null) {
            return false;
        }
        graph.remove(producer);
        graph.replace(activation, new Node(producer.name(), fused, producer.inputs(), activation.outputs()));
        return true;
    }

    private static List<PostOp> append(List<PostOp> postOps, ActivationFunction f) {
        List<PostOp> all = new ArrayList<>(postOps);
        all.add(new PostOp.Activate(f));
        return all;
    }
}
