package dev.kiln.reference;

import dev.kiln.Shape;
import dev.kiln.graph.ops.AveragePool;
import dev.kiln.graph.ops.Window;
import dev.kiln.spi.BoundNode;

/**
 * Mean over each window. The divisor counts the real input positions, or with
 * count_include_pad also the explicit padding, but never the extra positions ceil mode adds
 * past it (as PyTorch and ONNX Runtime do).
 */
final class AveragePoolKernel {
    private AveragePoolKernel() {
    }

    static void execute(BoundNode node, float[][] in, float[][] out) {
        AveragePool op = (AveragePool) node.op();
        Shape xs = node.inputShape(0);
        Shape ys = node.outputShape();
        Window w = op.window().resolve(xs);
        int planes = xs.dim(0) * xs.dim(1), height = xs.dim(2), width = xs.dim(3);
        int outH = ys.dim(2), outW = ys.dim(3);
        float[] x = in[0], y = out[0];
        for (int p = 0; p < planes; p++) {
            for (int oy = 0; oy < outH; oy++) {
                int y0 = oy * w.strideH() - w.padTop();
                int y1 = Math.min(y0 + w.kernelH(), height + w.padBottom());
                for (int ox = 0; ox < outW; ox++) {
                    int x0 = ox * w.strideW() - w.padLeft();
                    int x1 = Math.min(x0 + w.kernelW(), width + w.padRight());
                    int padded = (y1 - y0) * (x1 - x0);
                    float sum = 0;
                    int count = 0;
                    for (int iy = Math.max(y0, 0); iy < Math.min(y1, height); iy++) {
                        for (int ix = Math.max(x0, 0); ix < Math.min(x1, width); ix++) {
                            sum += x[(p * height + iy) * width + ix];
                            count++;
                        }
                    }
                    y[(p * outH + oy) * outW + ox] = sum / (op.countIncludePad() ? padded : count);
                }
            }
        }
    }
}
