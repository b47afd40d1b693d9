package dev.kiln.cli;

import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.MatMul;
import dev.kiln.spi.BoundNode;

/**
 * The class of layer a profiled node belongs to, as kernels are tuned: {@code 1x1 conv}, {@code 3x3
 * conv}, another window ({@code 7x7 conv}, {@code 5x5 conv}, {@code 1x7 conv}), {@code depthwise
 * conv} (one group per input channel), {@code grouped conv}, {@code fully connected} (Gemm and MatMul),
 * else the op's type for one with multiply-accumulates (the squeeze-excitation), and {@code no MACs}
 * for the rest (activations, pooling, element-wise ops), whose time is memory traffic.
 */
final class OpClass {
    static final String NO_MACS = "no MACs";

    private OpClass() {
    }

    static String of(BoundNode node) {
        if (node.op() instanceof Conv conv) {
            int channels = node.inputShapes().getFirst().dim(1);
            if (conv.groups() > 1 && conv.groups() == channels) {
                return "depthwise conv";
            }
            if (conv.groups() > 1) {
                return "grouped conv";
            }
            return conv.window().kernelH() + "x" + conv.window().kernelW() + " conv";
        }
        if (node.op() instanceof Gemm || node.op() instanceof MatMul) {
            return "fully connected";
        }
        return node.op().macs(node.inputShapes(), node.outputShapes()) > 0 ? node.op().type() : NO_MACS;
    }
}
