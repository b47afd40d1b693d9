package dev.kiln.models.onnx;

import dev.kiln.Shape;
import dev.kiln.graph.ops.AveragePool;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.Op;
import dev.kiln.graph.ops.Reshape;
import dev.kiln.graph.ops.Window;

import java.util.Map;

/**
 * Conv, MaxPool, AveragePool and the global pools. Kiln's windows are 2-D; a 1-D convolution or
 * pooling ([N, C, L]) runs as a 2-D one over [N, C, 1, L], with a Reshape on each side.
 */
final class ConvolutionOps {
    private ConvolutionOps() {
    }

    static void register(Map<String, OpConverter> m) {
        m.put("Conv", ConvolutionOps::conv);
        m.put("MaxPool", ConvolutionOps::maxPool);
        m.put("AveragePool", ConvolutionOps::averagePool);
        m.put("GlobalAveragePool", c -> c.emit(GlobalPool.AVERAGE, c.data(0)));
        m.put("GlobalMaxPool", c -> c.emit(GlobalPool.MAX, c.data(0)));
    }

    /** [N, C, L] viewed as [N, C, 1, L]: the batch and channels copied, the length inferred. */
    private static final Reshape AS_2D = new Reshape(0, 0, 1, -1);
    /** [N, C, 1, L] back to [N, C, L]. */
    private static final Reshape AS_1D = new Reshape(0, 0, -1);

    private static void conv(NodeContext c) {
        String x = c.data(0);
        String w = c.data(1);
        String b = c.optionalData(2);
        Shape weights = c.shapeOf(w);
        long[] kernelAttribute = c.attributes().getInts("kernel_shape");
        int spatial;
        if (weights != null && weights.rank() < 3) {
            throw c.invalid("weights '" + w + "' must be [M, C/group, kernel...] (rank 3 or more), got rank "
                    + weights.rank() + " " + weights);
        }
        if (weights != null) {
            spatial = weights.rank() - 2;
        } else if (kernelAttribute != null) {
            spatial = kernelAttribute.length;
        } else {
            throw c.unsupported("unknown kernel shape",
                    "kernel_shape is absent and the shape of the weights '" + w + "' is unknown");
        }
        int[] kernel = new int[spatial];
        for (int i = 0; i < spatial; i++) {
            kernel[i] = kernelAttribute != null && i < kernelAttribute.length
                    ? c.toInt(kernelAttribute[i], "kernel_shape") : weights.dim(i + 2);
        }
        if (kernelAttribute != null && kernelAttribute.length != spatial) {
            throw c.invalid("kernel_shape " + java.util.Arrays.toString(kernelAttribute) + " does not match weights "
                    + weights);
        }
        Conv op = new Conv(window(c, kernel), c.intAttribute("group", 1));
        switch (spatial) {
            case 2 -> emit(c, op, x, w, b);
            case 1 -> {
                String x2 = c.emitIntermediate("as_2d", AS_2D, x);
                String w2 = c.emitIntermediate("weights_as_2d", AS_2D, w);
                String y2 = b.isEmpty() ? c.emitIntermediate("conv_2d", op, x2, w2)
                        : c.emitIntermediate("conv_2d", op, x2, w2, b);
                c.emit(AS_1D, y2);
            }
            default -> throw c.unsupported(spatial + "-D", "only 1-D and 2-D convolutions are supported, this one is "
                    + spatial + "-D");
        }
    }

    private static void maxPool(NodeContext c) {
        if (c.isOutputUsed(1)) {
            throw c.unsupported("Indices output", "the Indices output (argmax positions) is not computed");
        }
        // storage_order only changes the Indices output, which is refused above.
        int[] kernel = kernelShape(c);
        pool(c, new MaxPool(window(c, kernel), c.intAttribute("ceil_mode", 0) != 0), kernel.length);
    }

    private static void averagePool(NodeContext c) {
        int[] kernel = kernelShape(c);
        for (int d : c.intsAttribute("dilations", kernel.length, 1)) {
            if (d != 1) {
                throw c.unsupported("dilations", "dilated average pooling is not supported");
            }
        }
        pool(c, new AveragePool(window(c, kernel), c.intAttribute("ceil_mode", 0) != 0,
                c.intAttribute("count_include_pad", 0) != 0), kernel.length);
    }

    private static int[] kernelShape(NodeContext c) {
        long[] kernel = c.attributes().getInts("kernel_shape");
        if (kernel == null) {
            throw c.invalid("the required attribute kernel_shape is missing");
        }
        int[] k = new int[kernel.length];
        for (int i = 0; i < k.length; i++) {
            k[i] = c.toInt(kernel[i], "kernel_shape");
        }
        return k;
    }

    private static void pool(NodeContext c, Op op, int spatial) {
        String x = c.data(0);
        switch (spatial) {
            case 2 -> c.emit(op, x);
            case 1 -> c.emit(AS_1D, c.emitIntermediate("pool_2d", op, c.emitIntermediate("as_2d", AS_2D, x)));
            default -> throw c.unsupported(spatial + "-D", "only 1-D and 2-D pooling is supported, this one is "
                    + spatial + "-D");
        }
    }

    private static void emit(NodeContext c, Op op, String x, String w, String b) {
        if (b.isEmpty()) {
            c.emit(op, x, w);
        } else {
            c.emit(op, x, w, b);
        }
    }

    /**
     * The window from kernel_shape, strides, pads, dilations and auto_pad, ONNX's defaults
     * filled in. ONNX lists pads as all begins then all ends; a 1-D window gets height 1.
     */
    static Window window(NodeContext c, int[] kernel) {
        int n = kernel.length;
        int[] strides = c.intsAttribute("strides", n, 1);
        int[] dilations = c.intsAttribute("dilations", n, 1);
        int[] pads = c.intsAttribute("pads", 2 * n, 0);
        String autoPad = c.attributes().getString("auto_pad", "NOTSET");
        Window.AutoPad padding = switch (autoPad) {
            case "NOTSET", "" -> Window.AutoPad.EXPLICIT;
            case "SAME_UPPER" -> Window.AutoPad.SAME_UPPER;
            case "SAME_LOWER" -> Window.AutoPad.SAME_LOWER;
            case "VALID" -> Window.AutoPad.VALID;
            default -> throw c.invalid("auto_pad '" + autoPad + "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
        };
        if (padding != Window.AutoPad.EXPLICIT) {
            // With auto_pad, explicit pads are not used; Window.resolve works them out per input size.
            pads = new int[2 * n];
        }
        if (n == 1) {
            return new Window(1, kernel[0], 1, strides[0], 0, pads[0], 0, pads[1], 1, dilations[0], padding);
        }
        if (n == 2) {
            return new Window(kernel[0], kernel[1], strides[0], strides[1], pads[0], pads[1], pads[2], pads[3],
                    dilations[0], dilations[1], padding);
        }
        throw c.unsupported(n + "-D", "only 1-D and 2-D windows are supported, this one is " + n + "-D");
    }
}
