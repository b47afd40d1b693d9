package dev.kiln.onednn;

import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.spi.BoundNode;

import java.lang.foreign.MemorySegment;

/** A standalone activation, the {@code onednn-eltwise} form: oneDNN's eltwise primitive in its input's layout. */
record EltwiseKernel(BoundNode node) implements OneDnnKernel {
    private static final MemorySegment NULL = MemorySegment.NULL;

    @Override
    public int lower(OneDnnLowering lowering) {
        LoweringContext c = LoweringContext.of(lowering);
        BoundNode n = node;
        int x = c.input(n, 0);
        MemorySegment md = c.program.md(x);
        float[] eltwise = algorithm(((Activation) n.op()).function());
        return c.program.step(n, c.stepThreads.sized(n.outputShape().elementCount()
                / StepThreads.ELEMENTS_PER_MICROSECOND, () -> c.dnnl.eltwise(c.engine, (int) eltwise[0], md, md,
                eltwise[1], eltwise[2], c.attr(NULL), c.where(n))), new int[]{Dnnl.ARG_SRC}, new int[]{x});
    }

    /** Null when oneDNN runs the node, else why not. */
    static String unsupportedReason(BoundNode n) {
        if (!(n.op() instanceof Activation activation)) {
            return "not an activation";
        }
        String rank = OneDnnKernels.rankReason(n);
        return rank != null ? rank : algorithm(activation.function()) == null ? "activation "
                + activation.function().kind() + " has no oneDNN algorithm" : null;
    }

    /** {algorithm, alpha, beta} of oneDNN's eltwise for an activation, or null when it has none. */
    static float[] algorithm(ActivationFunction f) {
        return switch (f.kind()) {
            case RELU -> new float[]{Dnnl.ELTWISE_RELU, 0, 0};
            case LEAKY_RELU -> new float[]{Dnnl.ELTWISE_RELU, f.alpha(), 0};
            case CLIP -> new float[]{Dnnl.ELTWISE_CLIP_V2, f.alpha(), f.beta()};
            case SIGMOID -> new float[]{Dnnl.ELTWISE_LOGISTIC, 0, 0};
            case SILU -> new float[]{Dnnl.ELTWISE_SWISH, 1, 0};
            case HARD_SIGMOID -> new float[]{Dnnl.ELTWISE_HARDSIGMOID, f.alpha(), f.beta()};
            case HARD_SWISH -> new float[]{Dnnl.ELTWISE_HARDSWISH, 1f / 6, 0.5f};
            case TANH -> new float[]{Dnnl.ELTWISE_TANH, 0, 0};
        };
    }
}
