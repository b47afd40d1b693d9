package dev.kiln.conformance.fuzz;

import dev.kiln.graph.Node;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.optimize.ActivationFusion;
import dev.kiln.optimize.Pass;
import dev.kiln.optimize.WorkingGraph;

import java.util.ArrayList;
import java.util.List;

/**
 * Activation fusion with a bug planted: it fuses as the real pass does, then drops every
 * activation that follows a residual add in a convolution's epilogue (conv, Add, Relu becomes
 * conv with the add and no Relu), the kind of slip fusion passes are known for.
 */
final class ActivationDroppedAfterResidual implements Pass {
    private final ActivationFusion real = new ActivationFusion();

    @Override
    public String name() {
        return real.name();
    }

    @Override
    public int run(WorkingGraph graph) {
        int rewrites = real.run(graph);
        for (Node n : graph.nodes()) {
            if (n.op() instanceof Conv conv && conv.hasResidual()) {
                List<PostOp> kept = new ArrayList<>();
                boolean afterAdd = false;
                for (PostOp p : conv.postOps()) {
                    afterAdd |= p instanceof PostOp.AddResidual;
                    if (!(afterAdd && p instanceof PostOp.Activate)) {
                        kept.add(p);
                    }
                }
                if (kept.size() != conv.postOps().size()) {
                    graph.replace(n, new Node(n.name(), conv.withPostOps(kept), n.inputs(), n.outputs()));
                }
            }
        }
        return rewrites;
    }
}
