package dev.kiln.models.onnx;

import dev.kiln.Shape;
import dev.kiln.graph.ops.BatchNormalization;
import dev.kiln.graph.ops.Concat;
import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.Lrn;
import dev.kiln.graph.ops.MatMul;
import dev.kiln.graph.ops.Pad;
import dev.kiln.graph.ops.Passthrough;
import dev.kiln.graph.ops.Softmax;
import dev.kiln.graph.ops.Transpose;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Normalisations, matrix products and data movement: BatchNormalization, LRN, Gemm, MatMul,
 * Softmax, Concat, Flatten, Pad, Transpose, Dropout and Identity.
 */
final class TensorOps {
    private TensorOps() {
    }

    static void register(Map<String, OpConverter> m) {
        m.put("BatchNormalization", TensorOps::batchNormalization);
        m.put("LRN", TensorOps::lrn);
        m.put("Gemm", TensorOps::gemm);
        m.put("MatMul", c -> c.emit(new MatMul(), c.data(0), c.data(1)));
        m.put("Softmax", TensorOps::softmax);
        m.put("Concat", TensorOps::concat);
        m.put("Flatten", c -> c.emit(new Flatten(c.intAttribute("axis", 1)), c.data(0)));
        m.put("Pad", TensorOps::pad);
        m.put("Dropout", TensorOps::dropout);
        m.put("Identity", TensorOps::identity);
        m.put("Transpose", TensorOps::transpose);
    }

    /**
     * Inference form only: training_mode (opset 14+) and spatial=0 (before 9) are refused, and
     * so are the running-statistics outputs of training. Opsets before 7 carry is_test and
     * consumed_inputs, which change nothing at inference.
     */
    private static void batchNormalization(NodeContext c) {
        if (c.attributes().getInt("training_mode", 0) != 0) {
            throw c.unsupported("training_mode=1", "training mode (statistics of the batch) is not supported");
        }
        if (c.attributes().getInt("spatial", 1) == 0) {
            throw c.unsupported("spatial=0", "per-activation normalisation (spatial=0) is not supported");
        }
        for (int i = 1; i < c.outputCount(); i++) {
            if (c.isOutputUsed(i)) {
                throw c.unsupported("training outputs", "output '" + c.output(i)
                        + "' (running or saved statistics) exists only in training");
            }
        }
        String mean = c.data(3);
        String variance = c.data(4);
        c.markStatistics(mean);
        c.markStatistics(variance);
        c.emit(new BatchNormalization(c.attributes().getFloat("epsilon", BatchNormalization.DEFAULT_EPSILON)),
                c.data(0), c.data(1), c.data(2), mean, variance);
    }

    private static void lrn(NodeContext c) {
        if (!c.attributes().has("size")) {
            throw c.invalid("the required attribute size is missing");
        }
        c.emit(new Lrn(c.intAttribute("size", 0), c.attributes().getFloat("alpha", 1e-4f),
                c.attributes().getFloat("beta", 0.75f), c.attributes().getFloat("bias", 1f)), c.data(0));
    }

    /** Opsets before 7 have a broadcast attribute; Kiln broadcasts C either way, as later opsets do. */
    private static void gemm(NodeContext c) {
        Gemm op = new Gemm(c.attributes().getFloat("alpha", 1f), c.attributes().getFloat("beta", 1f),
                c.attributes().getInt("transA", 0) != 0, c.attributes().getInt("transB", 0) != 0);
        String a = c.data(0);
        String b = c.data(1);
        if (c.hasInput(2)) {
            c.emit(op, a, b, c.data(2));
        } else {
            c.emit(op, a, b);
        }
    }

    /** No perm attribute reverses the axes; a perm that is not a permutation is an invalid model. */
    private static void transpose(NodeContext c) {
        long[] perm = c.attributes().getInts("perm");
        int[] p = new int[perm == null ? 0 : perm.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = c.toInt(perm[i], "perm");
        }
        Transpose op;
        try {
            op = new Transpose(p);
        } catch (IllegalArgumentException e) {
            throw c.invalid(e.getMessage());
        }
        c.emit(op, c.data(0));
    }

    /** Opsets before 13 view the input as 2-D at the axis (default 1); 13 and later use one axis (default -1). */
    private static void softmax(NodeContext c) {
        boolean coerceTo2d = c.opset() < 13;
        c.emit(new Softmax(c.intAttribute("axis", coerceTo2d ? 1 : -1), coerceTo2d), c.data(0));
    }

    /** Concat of data, or of integer tensors known at import time (parts of a shape). */
    private static void concat(NodeContext c) {
        if (c.inputCount() > 0 && c.hasInput(0) && ShapeOps.isInteger(c.value(0))) {
            ShapeOps.concatIntegers(c);
            return;
        }
        if (!c.attributes().has("axis") && c.opset() >= 4) {
            throw c.invalid("the required attribute axis is missing");
        }
        List<String> inputs = new ArrayList<>();
        for (int i = 0; i < c.inputCount(); i++) {
            inputs.add(c.data(i));
        }
        c.emit(new Concat(c.intAttribute("axis", 1)), inputs.toArray(String[]::new));
    }

    /**
     * Constant mode only. Opset 1 names the attribute {@code paddings}, opsets 2 to 10 {@code pads};
     * from 11 the pads and the value are inputs (constants for Kiln), and from 18 an optional
     * axes input says which axes the pads are for.
     */
    private static void pad(NodeContext c) {
        String mode = c.attributes().getString("mode", "constant");
        if (!mode.equals("constant")) {
            throw c.unsupported(mode + " mode", "only constant padding is supported, not " + mode);
        }
        String x = c.data(0);
        long[] pads;
        float value;
        long[] axes = null;
        if (c.opset() < 11) {
            pads = c.attributes().getInts(c.opset() < 2 ? "paddings" : "pads");
            if (pads == null) {
                throw c.invalid("the pads attribute is missing");
            }
            value = c.attributes().getFloat("value", 0f);
        } else {
            pads = c.constantInts(1, "pads");
            value = c.hasInput(2) ? c.constantFloat(2, "constant_value") : 0f;
            axes = c.hasInput(3) ? c.constantInts(3, "axes") : null;
        }
        int[] full = axes == null ? toInts(c, pads) : padsForAxes(c, x, pads, axes);
        for (int p : full) {
            if (p < 0) {
                throw c.unsupported("negative pads", "negative pads (cropping) " + Arrays.toString(full)
                        + " are not supported");
            }
        }
        if (Arrays.stream(full).allMatch(p -> p == 0)) {
            c.emit(Passthrough.IDENTITY, x);
        } else {
            c.emit(new Pad(full, value), x);
        }
    }

    private static int[] toInts(NodeContext c, long[] values) {
        int[] result = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = c.toInt(values[i], "pads");
        }
        return result;
    }

    /** Opset 18's axes input: pads given for some axes only, the others get none. */
    private static int[] padsForAxes(NodeContext c, String x, long[] pads, long[] axes) {
        Shape shape = c.requireShape(x, "to place pads given for some axes");
        int rank = shape.rank();
        if (pads.length != 2 * axes.length) {
            throw c.invalid("pads " + Arrays.toString(pads) + " do not match axes " + Arrays.toString(axes));
        }
        int[] full = new int[2 * rank];
        for (int i = 0; i < axes.length; i++) {
            int axis = (int) (axes[i] < 0 ? axes[i] + rank : axes[i]);
            if (axis < 0 || axis >= rank) {
                throw c.invalid("axis " + axes[i] + " is out of range for rank " + rank);
            }
            full[axis] = c.toInt(pads[i], "pads");
            full[axis + rank] = c.toInt(pads[i + axes.length], "pads");
        }
        return full;
    }

    /**
     * Identity at inference. From opset 12 the ratio is an input, which does not matter, and
     * training_mode an input that must be absent or a constant false. The mask output (BOOL from
     * opset 10) is not produced.
     */
    private static void dropout(NodeContext c) {
        if (c.opset() >= 12 && c.hasInput(2)) {
            long[] training = c.constantInts(2, "training_mode");
            if (training.length != 1 || training[0] != 0) {
                throw c.unsupported("training_mode=true", "dropout in training mode is random, not supported");
            }
        }
        if (c.isOutputUsed(1)) {
            throw c.unsupported("mask output", "the mask output '" + c.output(1) + "' is not computed");
        }
        c.emit(Passthrough.DROPOUT, c.data(0));
    }

    /** Identity of data is a Kiln node; of a value known at import time, the same value under a new name. */
    private static void identity(NodeContext c) {
        ImportedValue v = c.value(0);
        if (v instanceof ImportedValue.Constant || v instanceof ImportedValue.Ints) {
            c.define(0, v);
        } else {
            c.emit(Passthrough.IDENTITY, c.data(0));
        }
    }
}
