package dev.kiln.onednn;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.AveragePool;
import dev.kiln.graph.ops.BatchNormalization;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Concat;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.Lrn;
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Reshape;
import dev.kiln.graph.ops.Softmax;
import dev.kiln.graph.ops.SqueezeExcitation;
import dev.kiln.graph.ops.Window;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.Support;

import java.util.List;
import java.util.stream.IntStream;

/**
 * Which nodes oneDNN runs, and how Kiln's op vocabulary maps onto oneDNN's algorithms. Everything
 * refused here names why, so {@code explain} shows the reason a node fell back.
 */
final class OneDnnSupport {
    private OneDnnSupport() {
    }

    static Support supports(BoundNode n) {
        String reason = reason(n);
        return reason == null ? Support.YES : Support.no(reason);
    }

    private static String convReason(BoundNode n, Conv conv) {
        Shape in = n.inputShape(0);
        String strides = in.rank() == 4 ? SinglePositionStrides.reason(conv.window().resolve(in), in, n.outputShape())
                : null;
        return strides != null ? strides : postOpsReason(conv.postOps());
    }

    /** Null when oneDNN runs the node, else why not. */
    static String reason(BoundNode n) {
        for (Shape s : n.inputShapes()) {
            if (s != null && s.rank() > Dnnl.MAX_NDIMS) {
                return "oneDNN takes at most " + Dnnl.MAX_NDIMS + " dimensions, got " + s;
            }
        }
        return switch (n.op()) {
            case Conv conv -> !n.isConstant(1) ? "weights are not constant"
                    : n.node().hasInput(2) && !n.isConstant(2) ? "bias is not constant"
                    : convReason(n, conv);
            case Gemm gemm -> gemmReason(n, gemm);
            case MaxPool pool -> null;
            case AveragePool pool -> pool.countIncludePad() && pool.ceilMode() && overhangs(n, pool.window())
                    ? "ceil mode with padding counted: the extra ceil-mode window positions must not count, and oneDNN"
                    + " would count them" : null;
            case GlobalPool pool -> n.inputShape(0).rank() == 4 ? null : "global pooling of rank " + n.inputShape(0)
                    .rank();
            case SqueezeExcitation se -> !n.isConstant(1) || !n.isConstant(2) ? "weights are not constant"
                    : eltwise(se.squeezeActivation()) == null || eltwise(se.gateActivation()) == null
                    ? "activation without a oneDNN algorithm" : null;
            case Binary binary -> binaryReason(n, binary);
            case Activation activation -> eltwise(activation.function()) == null ? "activation "
                    + activation.function().kind() + " has no oneDNN algorithm" : null;
            case Concat concat -> null;
            case Softmax softmax -> softmax.coerceTo2d() && Math.floorMod(softmax.axis(), n.inputShape(0).rank())
                    != n.inputShape(0).rank() - 1 ? "opset < 13 softmax over flattened trailing axes" : null;
            case Lrn lrn -> n.inputShape(0).rank() != 4 ? "LRN of rank " + n.inputShape(0).rank()
                    : lrn.size() % 2 == 0 ? "LRN of even size " + lrn.size() + ": oneDNN's window is (size - 1) / 2"
                    + " channels either side, ONNX's reaches one channel further up" : null;
            case BatchNormalization bn -> n.inputShape(0).rank() < 2 || n.inputShape(0).rank() > 5
                    ? "batch-norm of rank " + n.inputShape(0).rank()
                    : IntStream.range(1, 5).allMatch(n::isConstant) ? null : "batch-norm parameters are not constant";
            case Flatten f -> null;
            case Reshape r -> null;
            default -> n.op().type() + " has no oneDNN primitive here";
        };
    }

    private static String postOpsReason(List<PostOp> ops) {
        for (PostOp op : ops) {
            if (op instanceof PostOp.Activate a && eltwise(a.function()) == null) {
                return "post-op " + a.function().kind() + " has no oneDNN algorithm";
            }
        }
        return null;
    }

    private static String gemmReason(BoundNode n, Gemm gemm) {
        if (gemm.transA() || gemm.alpha() != 1f) {
            return "only Gemm with A untransposed and alpha 1 is an inner product";
        }
        if (!n.isConstant(1)) {
            return "B is not constant";
        }
        if (n.node().hasInput(2)) {
            Shape c = n.inputShape(2);
            int outputs = n.outputShape().dim(1);
            boolean row = c.elementCount() == outputs && (c.rank() == 1 || c.dim(0) == 1);
            if (!n.isConstant(2) || gemm.beta() != 1f || !row) {
                return "C must be a constant bias row [N] with beta 1";
            }
        }
        for (PostOp op : gemm.postOps()) {
            if (op instanceof PostOp.AddResidual) {
                return "residual add on an inner product";
            }
        }
        return postOpsReason(gemm.postOps());
    }

    private static String binaryReason(BoundNode n, Binary binary) {
        Shape out = n.outputShape();
        Shape a = n.inputShape(0);
        Shape b = n.inputShape(1);
        if (!a.equals(out) && !b.equals(out)) {
            return "neither operand has the output's shape (both broadcast)";
        }
        boolean commutative = switch (binary.kind()) {
            case ADD, MUL, MAX, MIN -> true;
            case SUB, DIV -> false;
        };
        if (!a.equals(out) && !commutative) {
            return "the first operand broadcasts and " + binary.kind() + " does not commute";
        }
        Shape other = a.equals(out) ? b : a;
        return other.rank() > out.rank() ? "operand of higher rank than the output" : null;
    }

    private static boolean overhangs(BoundNode n, Window window) {
        Window w = window.resolve(n.inputShape(0));
        Shape in = n.inputShape(0);
        Shape out = n.outputShape();
        return PartitionLowering.endPadding(in.dim(2), out.dim(2), w.kernelH(), w.strideH(), w.padTop(), w.dilationH())
                > w.padBottom()
                || PartitionLowering.endPadding(in.dim(3), out.dim(3), w.kernelW(), w.strideW(), w.padLeft(),
                w.dilationW()) > w.padRight();
    }

    /** {algorithm, alpha, beta} of oneDNN's eltwise for an activation, or null when it has none. */
    static float[] eltwise(ActivationFunction f) {
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

    static int binaryAlgorithm(Binary.Kind kind) {
        return switch (kind) {
            case ADD -> Dnnl.BINARY_ADD;
            case SUB -> Dnnl.BINARY_SUB;
            case MUL -> Dnnl.BINARY_MUL;
            case DIV -> Dnnl.BINARY_DIV;
            case MAX -> Dnnl.BINARY_MAX;
            case MIN -> Dnnl.BINARY_MIN;
        };
    }
}
