package dev.kiln.optimize;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.BatchNormalization;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.Window;

import java.util.List;

/**
 * Removes inference batch-norms. A batch-norm is a per-channel affine map y = s * x + t with
 * s = gamma / sqrt(var + eps) and t = beta - mean * s, so:
 * <ul>
 * <li>after a Conv (plain, grouped or depthwise, with or without bias) it folds into the conv:
 *     W' = W * s per output channel and b' = b * s + t;</li>
 * <li>after a Gemm it folds into the columns of B' (rows of B when transB) and into C;</li>
 * <li>anywhere else, on a 4-D input, it becomes a depthwise 1x1 Conv with weight s and bias t,
 *     which later passes can fuse activations into.</li>
 * </ul>
 * Folding needs the producer's output to be read by the batch-norm alone (and not be a graph
 * output), the producer to have no post-ops (the map must apply to the raw product), and its
 * weights, the batch-norm's parameters and any bias to be constants. New weights are new
 * constants: the old ones may be shared with other nodes.
 */
public final class BatchNormFolding implements Pass {

    @Override
    public String name() {
        return "batch-norm-folding";
    }

    @Override
    public int run(WorkingGraph graph) {
        int rewrites = 0;
        for (Node bn : graph.nodes()) {
            if (!graph.contains(bn) || !(bn.op() instanceof BatchNormalization op) || bn.outputs().size() != 1
                    || !parametersAreConstant(bn, graph)) {
                continue;
            }
            ChannelAffine affine = ChannelAffine.of(bn, op.epsilon(), graph);
            Node producer = graph.producer(bn.input(0));
            boolean foldable = producer != null && graph.isOnlyReadBy(bn.input(0), bn);
            if (foldable && producer.op() instanceof Conv conv && canFoldIntoConv(producer, conv, graph)) {
                foldIntoConv(bn, producer, affine, graph);
            } else if (foldable && producer.op() instanceof Gemm gemm && canFoldIntoGemm(producer, graph)) {
                foldIntoGemm(bn, producer, gemm, affine, graph);
            } else if (graph.shapes().of(bn.input(0)).rank() == 4) {
                replaceByDepthwiseConv(bn, affine, graph);
            } else {
                continue;
            }
            rewrites++;
        }
        return rewrites;
    }

    private static boolean parametersAreConstant(Node bn, WorkingGraph graph) {
        for (int i = 1; i <= 4; i++) {
            if (!graph.isConstant(bn.input(i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean canFoldIntoConv(Node producer, Conv conv, WorkingGraph graph) {
        return conv.postOps().isEmpty() && graph.isConstant(producer.input(1))
                && (!producer.hasInput(2) || graph.isConstant(producer.input(2)));
    }

    private static boolean canFoldIntoGemm(Node producer, WorkingGraph graph) {
        if (!graph.isConstant(producer.input(1))) {
            return false;
        }
        if (!producer.hasInput(2)) {
            return true;
        }
        if (!graph.isConstant(producer.input(2))) {
            return false;
        }
        // C must not vary along the rows: the batch-norm's shift is one value per column.
        Shape c = graph.constant(producer.input(2)).shape();
        return c.rank() < 2 || c.dim(0) == 1;
    }

    /** The fused conv takes the batch-norm's place and output; the conv node goes. */
    private static void foldIntoConv(Node bn, Node convNode, ChannelAffine affine, WorkingGraph graph) {
        Tensor w = graph.constant(convNode.input(1));
        int outChannels = w.shape().dim(0);
        int perChannel = (int) (w.elementCount() / outChannels);
        float[] weights = w.toFloatArray();
        for (int m = 0; m < outChannels; m++) {
            for (int i = m * perChannel; i < (m + 1) * perChannel; i++) {
                weights[i] = (float) (weights[i] * affine.scale[m]);
            }
        }
        float[] bias = convNode.hasInput(2) ? graph.constant(convNode.input(2)).toFloatArray() : new float[outChannels];
        for (int m = 0; m < outChannels; m++) {
            bias[m] = (float) (bias[m] * affine.scale[m] + affine.shift[m]);
        }
        String newWeights = graph.addConstant(convNode.name() + "_bn_weight", Tensor.of(w.shape(), weights));
        String newBias = graph.addConstant(convNode.name() + "_bn_bias", Tensor.of(Shape.of(outChannels), bias));
        graph.remove(convNode);
        graph.replace(bn, new Node(convNode.name(), convNode.op(), List.of(convNode.input(0), newWeights, newBias),
                bn.outputs()));
    }

    /**
     * Y = alpha * A' * B' + beta * C, then s * Y + t per column n: scale column n of B' by s[n],
     * and C becomes the vector beta * C[n] * s[n] + t[n], with beta now 1.
     */
    private static void foldIntoGemm(Node bn, Node gemmNode, Gemm gemm, ChannelAffine affine, WorkingGraph graph) {
        Tensor b = graph.constant(gemmNode.input(1));
        int columns = gemm.transB() ? b.shape().dim(0) : b.shape().dim(1);
        int depth = gemm.transB() ? b.shape().dim(1) : b.shape().dim(0);
        float[] weights = b.toFloatArray();
        for (int k = 0; k < depth; k++) {
            for (int n = 0; n < columns; n++) {
                int i = gemm.transB() ? n * depth + k : k * columns + n;
                weights[i] = (float) (weights[i] * affine.scale[n]);
            }
        }
        float[] c = gemmNode.hasInput(2) ? graph.constant(gemmNode.input(2)).toFloatArray() : null;
        float[] bias = new float[columns];
        for (int n = 0; n < columns; n++) {
            double cn = c == null ? 0 : gemm.beta() * c[c.length == 1 ? 0 : n];
            bias[n] = (float) (cn * affine.scale[n] + affine.shift[n]);
        }
        String newB = graph.addConstant(gemmNode.name() + "_bn_weight", Tensor.of(b.shape(), weights));
        String newC = graph.addConstant(gemmNode.name() + "_bn_bias", Tensor.of(Shape.of(columns), bias));
        Gemm folded = new Gemm(gemm.alpha(), 1f, gemm.transA(), gemm.transB(), gemm.postOps());
        graph.remove(gemmNode);
        graph.replace(bn, new Node(gemmNode.name(), folded, List.of(gemmNode.input(0), newB, newC), bn.outputs()));
    }

    private static void replaceByDepthwiseConv(Node bn, ChannelAffine affine, WorkingGraph graph) {
        int channels = affine.scale.length;
        float[] scale = new float[channels];
        float[] shift = new float[channels];
        for (int c = 0; c < channels; c++) {
            scale[c] = (float) affine.scale[c];
            shift[c] = (float) affine.shift[c];
        }
        String w = graph.addConstant(bn.name() + "_scale", Tensor.of(Shape.of(channels, 1, 1, 1), scale));
        String b = graph.addConstant(bn.name() + "_shift", Tensor.of(Shape.of(channels), shift));
        graph.replace(bn, new Node(bn.name(), new Conv(Window.of(1, 1), channels), List.of(bn.input(0), w, b),
                List.of(bn.output())));
    }

    /** y = scale * x + shift per channel, in double so that folding adds no rounding of its own. */
    private record ChannelAffine(double[] scale, double[] shift) {
        static ChannelAffine of(Node bn, float epsilon, WorkingGraph graph) {
            float[] gamma = graph.constant(bn.input(1)).toFloatArray();
            float[] beta = graph.constant(bn.input(2)).toFloatArray();
            float[] mean = graph.constant(bn.input(3)).toFloatArray();
            float[] variance = graph.constant(bn.input(4)).toFloatArray();
            double[] scale = new double[gamma.length];
            double[] shift = new double[gamma.length];
            for (int c = 0; c < gamma.length; c++) {
                scale[c] = gamma[c] / Math.sqrt((double) variance[c] + epsilon);
                shift[c] = beta[c] - mean[c] * scale[c];
            }
            return new ChannelAffine(scale, shift);
        }
    }
}
